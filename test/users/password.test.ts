import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseOptions } from '@node-rs/argon2'
import { checkPassword, MIN_PASSWORD_LENGTH } from '../../src/users/password-policy.ts'
import { hashPassword, verifyPassword, MAX_PASSWORD_LENGTH } from '../../src/users/password.ts'

test('hashes with argon2id at OWASP parameters (m=19 MiB, t=2, p=1) and verifies', async () => {
  const phc = await hashPassword('a long and unusual passphrase')
  assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  const o = parseOptions(phc)
  assert.equal(o.saltLen, 16)
  assert.equal(await verifyPassword(phc, 'a long and unusual passphrase'), true)
  assert.equal(await verifyPassword(phc, 'a long and unusual passphrasE'), false)
  assert.equal(await verifyPassword('not a hash', 'x'), false)
  assert.equal(await verifyPassword(phc, 'x'.repeat(MAX_PASSWORD_LENGTH + 1)), false)
})

test('refuses short, overlong, repetitive and common passwords', () => {
  assert.equal(checkPassword('x'.repeat(MIN_PASSWORD_LENGTH - 1)), 'too_short')
  assert.equal(checkPassword('y'.repeat(MAX_PASSWORD_LENGTH + 1)), 'too_long')
  assert.equal(checkPassword('aaaaaaaaaaaaaaaa'), 'repetitive')
  assert.equal(checkPassword('abababababababab'), 'repetitive')
  assert.equal(checkPassword('abcdefghijklmnop'), 'repetitive')
  for (const common of ['password1234', 'Password2024!', 'P@ssw0rd123456', 'qwertyuiop123', 'iloveyou2025!!', 'Liverpool1234', '1q2w3e4r5t6y', 'letmein!!!!!!!']) {
    assert.equal(checkPassword(common), 'common', common)
  }
})

test('refuses a password containing the email local part', () => {
  assert.equal(checkPassword('jdoe-unusual-horse-9', { email: 'jdoe@example.com' }), 'contains_email')
})

test('accepts long unusual passphrases, including non-ASCII', () => {
  for (const ok of ['correct horse battery staple', 'tXq9#vLm2$wPz8', 'élan vital au crépuscule', 'dragonfly-ocean-47-maple']) {
    assert.equal(checkPassword(ok, { email: 'someone@example.com' }), null, ok)
  }
})

test('counts length in code points, not UTF-16 units', () => {
  // 11 emoji are 22 UTF-16 units but 11 characters: too short.
  assert.equal(checkPassword('🔒🔑🚀🌊🎲🧩🪐🦉🍀🎯🧭'), 'too_short')
})
