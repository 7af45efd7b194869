import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { composeSigned, SigningError } from '../../src/delivery/compose.ts'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { deliveryHarness } from './delivery-harness.ts'
import { dkimKey, dkimRecord, outboundMessage, txtResolver } from './fixtures.ts'

describe('compose and sign', () => {
  test('the same parsed RSA key signs many messages, each verifying on its own', async () => {
    const resolver = txtResolver({ 'sp-rsa._domainkey.sealpost.test': dkimRecord(dkimKey('rsa')) })
    for (let i = 0; i < 3; i++) {
      const raw = await composeSigned(outboundMessage({ subject: `n${i}` }), Date.now())
      const result = await dkimVerify(raw, { resolver, strict: true } as any)
      assert.equal(result.results[0].status.result, 'pass')
    }
  })

  test('a tampered body fails verification (the signature covers it)', async () => {
    const resolver = txtResolver({ 'sp-rsa._domainkey.sealpost.test': dkimRecord(dkimKey('rsa')) })
    const raw = (await composeSigned(outboundMessage({ text: 'pay 10 EUR' }), Date.now())).toString().replace('pay 10 EUR', 'pay 99 EUR')
    const result = await dkimVerify(Buffer.from(raw), { resolver, strict: true } as any)
    assert.equal(result.results[0].status.result, 'fail')
  })

  for (const [name, dkim] of [
    ['an unparsable key', { privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n', algorithm: 'rsa' }],
    ['an Ed25519 key declared as RSA', { privateKey: dkimKey('ed25519').privateKey, algorithm: 'rsa' }],
    ['an RSA key declared as Ed25519', { privateKey: dkimKey('rsa').privateKey, algorithm: 'ed25519' }],
  ] as const) {
    test(`${name} is refused with SigningError, never returned unsigned`, async () => {
      const msg = outboundMessage()
      await assert.rejects(composeSigned({ ...msg, dkim: { ...msg.dkim, ...dkim } }, Date.now()), SigningError)
    })
  }
})

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: unusable DKIM key`, { skip: dialect.skip }, () => {
    test('the message is deferred with the signing error and nothing reaches the receiver', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const good = outboundMessage()
      const msg = { ...good, dkim: { ...good.dkim, privateKey: dkimKey('ed25519').privateKey } }
      await h.accept(msg)
      await h.worker.drain()
      const [outcome] = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.equal(outcome.kind, 'deferred')
      assert.match((outcome as any).reason, /^DKIM signing for sealpost\.test failed/)
      assert.equal(sink.counts.connections, 0)
    })
  })
}
