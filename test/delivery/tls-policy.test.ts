import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:tls'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { testDialects } from '../helpers/dialects.ts'
import { testCerts } from '../helpers/certs.ts'
import { startSmtpSink, type SinkOptions, type SmtpSink } from '../helpers/smtp-sink.ts'
import { deliveryHarness, BASE_MS } from './delivery-harness.ts'
import { outboundMessage } from './fixtures.ts'

const OLD_TLS: SinkOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }

/** Proves the old-TLS sink really speaks TLS 1.1, so the refusal below is our policy and not a broken sink. */
async function handshakeWithTls11(sink: SmtpSink): Promise<string | null> {
  const socket = createConnection({ host: '127.0.0.1', port: sink.port })
  let buffered = ''
  socket.setEncoding('utf8')
  const read = async (re: RegExp) => { while (!re.test(buffered)) buffered += (await once(socket, 'data'))[0] }
  await read(/^220 /m)
  socket.write('EHLO client.test\r\n'); await read(/^250 /m)
  socket.write('STARTTLS\r\n'); await read(/^220 .*\r\n$/m)
  socket.removeAllListeners('data')
  const certs = await testCerts()
  const secure = connect({ socket, servername: 'localhost', ca: certs.caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })
  await once(secure, 'secureConnect')
  const protocol = secure.getProtocol()
  secure.destroy()
  return protocol
}

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: TLS is required for every delivery`, { skip: dialect.skip }, () => {
    const certsP = testCerts()
    const cases: { name: string; sink: () => Promise<SinkOptions>; reason: RegExp }[] = [
      { name: 'a sink without STARTTLS', sink: async () => ({ tls: 'none' }), reason: /TLS required.*does not offer STARTTLS/ },
      { name: 'a sink limited to TLS 1.0/1.1', sink: async () => OLD_TLS, reason: /TLS required \(TLS 1\.2\+.*the peer offers no TLS 1\.2 or newer/ },
      { name: 'a sink with a self-signed certificate', sink: async () => ({ certificate: (await certsP).selfSigned }), reason: /TLS required \(TLS 1\.2\+ with a verified certificate\).*self-signed certificate/ },
      { name: 'a sink whose certificate names another host', sink: async () => ({ certificate: (await certsP).wrongName }), reason: /TLS required \(TLS 1\.2\+ with a verified certificate\).*altnames/ },
    ]
    for (const c of cases) {
      test(`${c.name} receives nothing; the message is deferred, then failed with a reason naming TLS`, async (t) => {
        const sink = await startSmtpSink(await c.sink())
        const h = await deliveryHarness({ dialect: dialect.name, sink, maxAttempts: 2 })
        t.after(async () => { await h.close(); await sink.close() })
        if (c.sink === cases[1].sink) assert.equal(await handshakeWithTls11(sink), 'TLSv1.1')
        const msg = outboundMessage()
        await h.accept(msg)

        await h.worker.drain()
        let outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
        assert.equal(outcomes.length, 1)
        assert.equal(outcomes[0].kind, 'deferred')
        assert.match((outcomes[0] as any).reason, c.reason)
        assert.equal((outcomes[0] as any).retryAt, h.clock.now().getTime() + BASE_MS)

        h.clock.advance(BASE_MS)
        await h.worker.drain()
        outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
        assert.equal(outcomes.length, 2)
        assert.equal(outcomes[1].kind, 'failed')
        assert.match((outcomes[1] as any).reason, /^gave up after 2 attempts: TLS required/)
        assert.match((outcomes[1] as any).reason, c.reason)
        assert.equal((outcomes[1] as any).bounce, null)
        const [job] = await h.jobs(msg.id)
        assert.equal(job.state, 'failed')
        assert.match(job.last_error ?? '', /TLS required/)

        assert.equal(sink.messages.length, 0, 'nothing was ever received')
        assert.equal(sink.counts.mailFrom, 0, 'not even the envelope was sent in clear')
      })
    }

    test('a relay on smtp:// without STARTTLS is refused the same way (no plaintext fallback)', async (t) => {
      const sink = await startSmtpSink({ tls: 'none' })
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true, maxAttempts: 1 })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage()
      await h.accept(msg)
      await h.worker.drain()
      const [outcome] = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.equal(outcome.kind, 'failed')
      assert.match((outcome as any).reason, /does not offer STARTTLS/)
      assert.equal(sink.counts.mailFrom, 0)
    })
  })
}
