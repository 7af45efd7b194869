import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import {
  newStandardSecret, signatureHeaders, standardSecretKey, standardSignature, verifyWebhookSignature,
  SIGNATURE_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER,
} from '../../src/webhooks/signature.ts'
import { ALL_OK, all, verifyWithAll } from './verifiers.ts'

const body = '{"id":"evt_01jd0000000000000000000000","type":"message.delivered","data":{"message_id":"msg_1","recipients":["bob@example.com"]}}'
const id = 'evt_01jd0000000000000000000000'
const now = () => Math.floor(Date.now() / 1000)
/** A secret as Sealpost issued them before Standard Webhooks: whsec_ + base64url of 32 bytes, used as a string key. */
const legacySecret = () => `whsec_${randomBytes(32).toString('base64url')}`

test('the signature matches the Standard Webhooks specification example', () => {
  // The example of the spec and of the standardwebhooks test suite (a 24-byte key).
  const key = standardSecretKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
  assert.ok(key)
  assert.equal(key.length, 24)
  assert.equal(standardSignature(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
})

test('new secrets are whsec_ + padded standard base64 of 32 random bytes', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const s = newStandardSecret()
    assert.match(s, /^whsec_[A-Za-z0-9+/]{43}=$/)
    assert.equal(standardSecretKey(s)?.length, 32)
    seen.add(s)
  }
  assert.equal(seen.size, 200)
})

test('only canonical standard base64 of 24-64 bytes is a Standard Webhooks secret; legacy secrets never are', () => {
  const b64 = (n: number) => `whsec_${randomBytes(n).toString('base64')}`
  assert.equal(standardSecretKey(b64(24))?.length, 24)
  assert.equal(standardSecretKey(b64(64))?.length, 64)
  for (const [secret, why] of [
    [b64(23), 'too short'], [b64(65), 'too long'], ['whsec_', 'empty'],
    [b64(32).slice('whsec_'.length), 'no prefix'],
    [`whsec_${'-'.repeat(43)}=`, 'base64url characters'], [`whsec_${'A'.repeat(42)}_w`, 'base64url characters'],
    [b64(32).slice(0, -1), 'unpadded'], [`whsec_${'A'.repeat(42)}B=`, 'non-zero padding bits'],
    [`${b64(32)} `, 'trailing space'], [`whsec_${'A'.repeat(40)}\r\nAA`, 'CR/LF'],
  ] as const) assert.equal(standardSecretKey(secret), null, why)
  // Whatever characters a legacy secret happens to hold, its 43 characters are never padded base64.
  for (let i = 0; i < 500; i++) assert.equal(standardSecretKey(legacySecret()), null)
  assert.equal(standardSecretKey(`whsec_${'A'.repeat(43)}`), null, 'a legacy secret with base64-only characters')
})

test('a delivery signed with a Standard Webhooks secret verifies with standardwebhooks, svix and Resend', () => {
  const secret = newStandardSecret()
  const t = now()
  const headers = signatureHeaders([secret], id, t, body)
  assert.equal(headers[WEBHOOK_ID_HEADER], id)
  assert.equal(headers[WEBHOOK_TIMESTAMP_HEADER], String(t))
  assert.match(headers[WEBHOOK_SIGNATURE_HEADER], /^v1,[A-Za-z0-9+/]{43}=$/)
  assert.deepEqual(verifyWithAll(secret, headers, body), ALL_OK)
  // The legacy header is still there for one release, keyed with the secret string.
  assert.ok(verifyWebhookSignature(secret, headers[SIGNATURE_HEADER], body, 300, t))
})

test('a tampered body, another secret, another id or timestamp, and a stale or future timestamp fail in all three', () => {
  const secret = newStandardSecret()
  const t = now()
  const headers = signatureHeaders([secret], id, t, body)
  const mismatch = all('No matching signature found')
  assert.deepEqual(verifyWithAll(secret, headers, body.replace('bob@', 'eve@')), mismatch, 'tampered body')
  assert.deepEqual(verifyWithAll(secret, headers, `${body} `), mismatch, 'one byte more')
  assert.deepEqual(verifyWithAll(newStandardSecret(), headers, body), mismatch, 'another secret')
  assert.deepEqual(verifyWithAll(secret, { ...headers, [WEBHOOK_ID_HEADER]: `${id}x` }, body), mismatch, 'signature moved to another event')
  assert.deepEqual(verifyWithAll(secret, { ...headers, [WEBHOOK_TIMESTAMP_HEADER]: String(t - 1) }, body), mismatch, 'signature moved to another time')
  const flipped = headers[WEBHOOK_SIGNATURE_HEADER].replace(/,(.)/, (_m, c: string) => `,${c === 'A' ? 'B' : 'A'}`)
  assert.deepEqual(verifyWithAll(secret, { ...headers, [WEBHOOK_SIGNATURE_HEADER]: flipped }, body), mismatch, 'one signature character changed')
  assert.deepEqual(verifyWithAll(secret, headers, body, t + 301), all('Message timestamp too old'), 'replayed after 300 s')
  assert.deepEqual(verifyWithAll(secret, headers, body, t - 301), all('Message timestamp too new'), 'from the future')
  assert.deepEqual(verifyWithAll(secret, headers, body, t + 300), ALL_OK, 'inside the tolerance')
})

test('during a rotation webhook-signature carries both signatures, and each secret alone verifies in all three', () => {
  const [next, previous] = [newStandardSecret(), newStandardSecret()]
  const headers = signatureHeaders([next, previous], id, now(), body)
  const entries = headers[WEBHOOK_SIGNATURE_HEADER].split(' ')
  assert.equal(entries.length, 2)
  assert.notEqual(entries[0], entries[1])
  assert.deepEqual(verifyWithAll(next, headers, body), ALL_OK, 'new secret')
  assert.deepEqual(verifyWithAll(previous, headers, body), ALL_OK, 'old secret')
  assert.deepEqual(verifyWithAll(next, { ...headers, [WEBHOOK_SIGNATURE_HEADER]: entries[1] }, body), all('No matching signature found'), 'each entry is its own secret')
  assert.deepEqual(verifyWithAll(newStandardSecret(), headers, body), all('No matching signature found'))
})

test('a legacy secret signs only Sealpost-Signature; beside a new secret it signs that header only', () => {
  const legacy = legacySecret()
  const t = now()
  const alone = signatureHeaders([legacy], id, t, body)
  assert.deepEqual(Object.keys(alone), [SIGNATURE_HEADER], 'no webhook-* headers without a Standard Webhooks secret')
  assert.ok(verifyWebhookSignature(legacy, alone[SIGNATURE_HEADER], body, 300, t))

  const next = newStandardSecret()
  const migrating = signatureHeaders([next, legacy], id, t, body)
  assert.equal(migrating[WEBHOOK_SIGNATURE_HEADER].split(' ').length, 1)
  assert.deepEqual(verifyWithAll(next, migrating, body), ALL_OK)
  assert.equal(migrating[SIGNATURE_HEADER].split(',').length, 3, 't= and one v1= per secret')
  assert.ok(verifyWebhookSignature(legacy, migrating[SIGNATURE_HEADER], body, 300, t), 'the old receiver keeps working during the overlap')
  assert.ok(verifyWebhookSignature(next, migrating[SIGNATURE_HEADER], body, 300, t))
})
