import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createThreadSigner } from '../../src/delivery/signer.ts'
import { deliveryHarness } from './delivery-harness.ts'
import { dkimKey, dkimRecord, outboundMessage, txtResolver } from './fixtures.ts'

const resolver = txtResolver({
  'sp-rsa._domainkey.sealpost.test': dkimRecord(dkimKey('rsa')),
  'sp-ed._domainkey.sealpost.test': dkimRecord(dkimKey('ed25519')),
})

async function verify(raw: Buffer) {
  const result = await dkimVerify(raw, { resolver, strict: true } as any)
  return result.results.map((r: any) => ({ result: r.status.result, domain: r.signingDomain, algo: r.algo }))
}

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: delivery over TLS with DKIM`, { skip: dialect.skip }, () => {
    for (const algorithm of ['rsa', 'ed25519'] as const) {
      test(`a STARTTLS sink receives the message and its ${algorithm} DKIM signature verifies`, async (t) => {
        const sink = await startSmtpSink()
        const h = await deliveryHarness({ dialect: dialect.name, sink })
        t.after(async () => { await h.close(); await sink.close() })
        const msg = outboundMessage({ algorithm, cc: ['cc@example.net'], bcc: ['hidden@example.org'] })
        await h.accept(msg)

        await h.worker.drain()

        assert.equal(sink.messages.length, 2, 'one SMTP transaction per recipient domain')
        for (const m of sink.messages) {
          assert.equal(m.secure, true)
          assert.match(m.tlsProtocol ?? '', /^TLSv1\.[23]$/)
          assert.equal(m.envelope.mailFrom, 'sender@sealpost.test')
          assert.deepEqual(await verify(m.raw), [{ result: 'pass', domain: 'sealpost.test', algo: algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256' }])
          const text = m.raw.toString()
          assert.match(text, new RegExp(`Message-ID: ${msg.messageIdHeader}`, 'i'))
          assert.doesNotMatch(text, /hidden@example\.org/, 'Bcc never appears in the message')
          assert.match(text, /X-Campaign: spring/)
        }
        const envelopes = sink.messages.map((m) => m.envelope.rcptTo.sort()).sort()
        assert.deepEqual(envelopes, [['ann@example.org', 'hidden@example.org'], ['cc@example.net']])
        const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
        assert.deepEqual(outcomes.map((o) => [o.kind, o.recipients.sort()]).sort(), [
          ['delivered', ['ann@example.org', 'hidden@example.org']], ['delivered', ['cc@example.net']],
        ])
        assert.deepEqual((await h.jobs(msg.id)).map((j) => j.state), ['done', 'done'])
      })
    }

    test('through a relay: one job and one SMTP transaction per message, implicit TLS with AUTH', async (t) => {
      const sink = await startSmtpSink({ tls: 'implicit', auth: { user: 'relay-user', pass: 's3cret' } })
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true, relayUrl: `smtps://relay-user:s3cret@localhost:${sink.port}` })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ cc: ['cc@example.net'] })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.messages.length, 1)
      assert.equal(sink.messages[0].user, 'relay-user')
      assert.deepEqual(sink.messages[0].envelope.rcptTo.sort(), ['ann@example.org', 'cc@example.net'])
      assert.equal((await verify(sink.messages[0].raw))[0].result, 'pass')
      assert.deepEqual((await h.jobs(msg.id)).map((j) => [j.domain, j.state]), [['*', 'done']])
    })

    test('signing in worker threads gives the same verified result', async (t) => {
      const sink = await startSmtpSink()
      const signer = createThreadSigner(2)
      const h = await deliveryHarness({ dialect: dialect.name, sink, signer })
      t.after(async () => { await h.close(); await signer.close(); await sink.close() })
      const msgs = [outboundMessage({ algorithm: 'rsa' }), outboundMessage({ algorithm: 'ed25519' }), outboundMessage({ algorithm: 'rsa' })]
      for (const m of msgs) await h.accept(m)
      await h.worker.drain()
      assert.equal(sink.messages.length, 3)
      for (const m of sink.messages) assert.equal((await verify(m.raw))[0].result, 'pass')
    })

    test('a test-environment message is sandboxed: recorded, never sent', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ environment: 'test', cc: ['x@example.net'] })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.counts.connections, 0, 'no SMTP connection at all')
      const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.deepEqual(outcomes.map((o) => [o.kind, o.recipients]).sort(), [['sandboxed', ['ann@example.org']], ['sandboxed', ['x@example.net']]])
    })
  })
}
