import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generate } from 'otplib'
import { checkTotp, newTotpSecret } from '../../src/users/totp.ts'

// RFC 6238 Appendix B, SHA-1 rows: seed "12345678901234567890" (20 ASCII bytes), 8 digits, T0 = 0, X = 30.
const RFC6238_SHA1 = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
] as const

test('otplib reproduces the RFC 6238 SHA-1 test vectors', async () => {
  const seed = new TextEncoder().encode('12345678901234567890')
  for (const [time, expected] of RFC6238_SHA1) {
    assert.equal(await generate({ secret: seed, epoch: time, digits: 8, algorithm: 'sha1', period: 30 }), expected, `T=${time}`)
  }
})

test('checkTotp accepts the current code, and one step of drift either way', async () => {
  const secret = newTotpSecret()
  const now = Date.parse('2026-03-01T12:00:10Z')
  for (const drift of [-30_000, 0, 30_000]) {
    const code = await generate({ secret, epoch: Math.floor((now + drift) / 1000) })
    const r = await checkTotp(secret, code, now, null)
    assert.equal(r.ok, true, `drift ${drift}`)
  }
  const old = await generate({ secret, epoch: Math.floor((now - 90_000) / 1000) })
  assert.deepEqual(await checkTotp(secret, old, now, null), { ok: false, reason: 'invalid' })
})

test('refuses a replayed code (same time step) and any code at or before the last accepted step', async () => {
  const secret = newTotpSecret()
  const now = Date.parse('2026-03-01T12:00:10Z')
  const code = await generate({ secret, epoch: Math.floor(now / 1000) })
  const first = await checkTotp(secret, code, now, null)
  assert.ok(first.ok)
  assert.deepEqual(await checkTotp(secret, code, now, first.timeStep), { ok: false, reason: 'replayed' })
  // The previous step's code is still inside the drift window but older than what was used: refused too.
  const previous = await generate({ secret, epoch: Math.floor((now - 30_000) / 1000) })
  assert.equal((await checkTotp(secret, previous, now, first.timeStep)).ok, false)
  // The next step's code is fresh.
  const next = await generate({ secret, epoch: Math.floor((now + 30_000) / 1000) })
  assert.equal((await checkTotp(secret, next, now + 30_000, first.timeStep)).ok, true)
})

test('refuses malformed codes without calling the library', async () => {
  const secret = newTotpSecret()
  for (const bad of ['', '12345', '1234567', 'abcdef', '12 345', '123456\n']) {
    assert.deepEqual(await checkTotp(secret, bad, Date.now(), null), { ok: false, reason: 'invalid' })
  }
})
