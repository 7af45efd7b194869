import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKey, parseKey, KEY_PATTERN_GLOBAL } from '../../src/keys/format.ts'

test('generated keys carry their environment prefix and pass the offline checksum', () => {
  const { token, lookupId } = generateKey('live')
  assert.match(token, /^sp_live_/)
  const parsed = parseKey(token)
  assert.equal(parsed?.lookupId, lookupId)
  assert.equal(parsed?.environment, 'live')
  assert.equal(token.match(KEY_PATTERN_GLOBAL)?.[0], token)
})

test('a single changed character fails the checksum', () => {
  const { token } = generateKey('test')
  const i = token.length - 10
  const flipped = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1)
  assert.equal(parseKey(flipped), null)
})

test('keys are unique and carry at least 256 bits of secret', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) seen.add(generateKey('live').token)
  assert.equal(seen.size, 200)
  assert.equal(generateKey('live').token.split('_')[3].length, 49)
})
