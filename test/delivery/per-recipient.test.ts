import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { deliveryHarness } from './delivery-harness.ts'
import { dkimKey, dkimRecord, outboundMessage, txtResolver } from './fixtures.ts'

const resolver = txtResolver({
  'sp-rsa._domainkey.sealpost.test': dkimRecord(dkimKey('rsa')),
  'sp-ed._domainkey.sealpost.test': dkimRecord(dkimKey('ed25519')),
})

const unsubscribeHeaders = (i: number) => ({ headers: { 'List-Unsubscribe': `<https://sp.test/v1/unsubscribe/link-${i}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } })
const headerOf = (raw: Buffer, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(raw.toString().split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' '))?.[1]

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: per-recipient copies and proven sending domains`, { skip: dialect.skip }, () => {
    for (const algorithm of ['rsa', 'ed25519'] as const) {
      test(`per-recipient headers: each recipient gets its own ${algorithm}-signed copy with its own header, covered by the signature`, async (t) => {
        const sink = await startSmtpSink()
        const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true })
        t.after(async () => { await h.close(); await sink.close() })
        // to, cc, bcc, and a duplicate of the first (one copy per address; its first index).
        const msg = outboundMessage({
          algorithm, to: ['"Ann" <ann@example.org>', 'bob@example.org'], cc: ['cc@example.net'], bcc: ['hidden@example.org', 'ANN@example.org'],
          perRecipient: [0, 1, 2, 3, 4].map(unsubscribeHeaders),
        })
        await h.accept(msg)
        await h.worker.drain()

        assert.equal(sink.messages.length, 4)
        const byRcpt = new Map(sink.messages.map((m) => [m.envelope.rcptTo.join(','), m]))
        const expected: [string, number][] = [['ann@example.org', 0], ['bob@example.org', 1], ['cc@example.net', 2], ['hidden@example.org', 3]]
        assert.deepEqual([...byRcpt.keys()].sort(), expected.map(([a]) => a).sort(), 'one envelope recipient per copy')
        for (const [address, i] of expected) {
          const m = byRcpt.get(address)!
          assert.equal(headerOf(m.raw, 'List-Unsubscribe'), `<https://sp.test/v1/unsubscribe/link-${i}>`)
          assert.equal(headerOf(m.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click')
          assert.equal(headerOf(m.raw, 'To'), 'Ann <ann@example.org>, bob@example.org', 'the visible headers stay those of the message')
          assert.doesNotMatch(m.raw.toString(), /hidden@example\.org/)
          const result = (await dkimVerify(m.raw, { resolver, strict: true } as any)).results[0] as any
          assert.equal(result.status.result, 'pass')
          const signed = (result.signingHeaders.keys as string).toLowerCase().split(':').map((k) => k.trim())
          assert.ok(signed.includes('list-unsubscribe') && signed.includes('list-unsubscribe-post'), `h= covers both one-click headers: ${signed}`)
        }
        const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
        assert.deepEqual(outcomes.map((o) => [o.kind, o.recipients.sort()]), [
          ['delivered', ['ANN@example.org', 'ann@example.org', 'bob@example.org', 'cc@example.net', 'hidden@example.org']],
        ])
      })
    }

    test('without per-recipient headers, one transaction carries every recipient (no copies)', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ to: ['ann@example.org', 'bob@example.org'] })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.messages.length, 1)
      assert.deepEqual(sink.messages[0].envelope.rcptTo.sort(), ['ann@example.org', 'bob@example.org'])
      assert.equal(headerOf(sink.messages[0].raw, 'List-Unsubscribe'), undefined)
    })

    test('a copy the receiver refuses fails alone; the others are delivered', async (t) => {
      const sink = await startSmtpSink({ replies: { rcptTo: (arg) => (arg === 'bob@example.org' ? { code: 550, message: '5.1.1 <bob@example.org>: user unknown' } : undefined) } })
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ to: ['ann@example.org', 'bob@example.org'], perRecipient: [0, 1].map(unsubscribeHeaders) })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.messages.length, 1)
      assert.deepEqual(sink.messages[0].envelope.rcptTo, ['ann@example.org'])
      const outcomes = (await h.source.outcomes(msg.id)).map((o) => [o.outcome.kind, o.outcome.recipients])
      assert.deepEqual(outcomes.sort(), [['delivered', ['ann@example.org']], ['failed', ['bob@example.org']]])
    })

    test('live mail whose sending domain is not verified is failed unsigned: not even MAIL FROM is sent', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ senderVerified: false, cc: ['cc@example.net'] })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.counts.connections, 0)
      assert.equal(sink.counts.mailFrom, 0)
      // One job per recipient domain (direct to MX): each fails on its own.
      const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.deepEqual(outcomes.map((o) => [o.kind, o.recipients]).sort(), [['failed', ['ann@example.org']], ['failed', ['cc@example.net']]])
      for (const o of outcomes) assert.match((o as { reason: string }).reason, /sealpost\.test is not verified/)
      assert.deepEqual((await h.jobs(msg.id)).map((j) => j.state), ['failed', 'failed'])
    })

    test('a test-environment message from an unverified domain is sandboxed as before (never sent)', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ senderVerified: false, environment: 'test' })
      await h.accept(msg)
      await h.worker.drain()
      assert.equal(sink.counts.mailFrom, 0)
      assert.deepEqual((await h.source.outcomes(msg.id)).map((o) => o.outcome.kind), ['sandboxed'])
    })
  })
}
