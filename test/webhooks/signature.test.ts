import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { signatureHeader, verifyWebhookSignature } from '../../src/webhooks/signature.ts'

const secret = 'whsec_test_secret'
const body = '{"id":"evt_1","type":"message.delivered","data":{"message_id":"msg_1"}}'
const t = 1_900_000_000

test('the header is t=<unix>,v1=<hex HMAC-SHA256 over "t.body">', () => {
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
  assert.equal(signatureHeader([secret], t, body), `t=${t},v1=${expected}`)
})

test('a receiver accepts a fresh, untampered delivery', () => {
  const h = signatureHeader([secret], t, body)
  assert.equal(verifyWebhookSignature(secret, h, body, 300, t), true)
  assert.equal(verifyWebhookSignature(secret, h, Buffer.from(body), 300, t + 300), true)
})

test('a tampered body, another secret, or a signature moved to another timestamp is refused', () => {
  const h = signatureHeader([secret], t, body)
  assert.equal(verifyWebhookSignature(secret, h, body.replace('msg_1', 'msg_2'), 300, t), false)
  assert.equal(verifyWebhookSignature(secret, h, `${body} `, 300, t), false)
  assert.equal(verifyWebhookSignature('whsec_other', h, body, 300, t), false)
  assert.equal(verifyWebhookSignature(secret, h.replace(`t=${t}`, `t=${t + 1}`), body, 300, t), false)
})

test('a timestamp outside the tolerance (replay, or from the future) is refused', () => {
  const h = signatureHeader([secret], t, body)
  assert.equal(verifyWebhookSignature(secret, h, body, 300, t + 301), false)
  assert.equal(verifyWebhookSignature(secret, h, body, 300, t - 301), false)
  assert.equal(verifyWebhookSignature(secret, h, body, 10, t + 11), false)
})

test('malformed, missing, doubled or oversized headers are refused', () => {
  const sig = signatureHeader([secret], t, body).split(',')[1]
  for (const h of [undefined, null, '', `t=${t}`, sig, `t=abc,${sig}`, `t=${t},t=${t},${sig}`, `t=${t},v0=${sig.slice(3)}`, `t=${t},v1=${sig.slice(3, 40)}`, ['a', 'b'], `t=${t},${sig},${'x'.repeat(5000)}`]) {
    assert.equal(verifyWebhookSignature(secret, h as any, body, 300, t), false, String(h))
  }
})

test('during a rotation both secrets verify the same delivery', () => {
  const h = signatureHeader(['whsec_new', 'whsec_old'], t, body)
  assert.equal(h.split(',').length, 3)
  assert.equal(verifyWebhookSignature('whsec_new', h, body, 300, t), true)
  assert.equal(verifyWebhookSignature('whsec_old', h, body, 300, t), true)
  assert.equal(verifyWebhookSignature('whsec_gone', h, body, 300, t), false)
})
