import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAddress, parseAddressList } from '../../src/validation/address.ts'
import { AppError } from '../../src/core/errors.ts'

function refused(fn: () => unknown, reason: string, field?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'invalid_address')
    const d = e.details as { field: string; reason: string }
    assert.equal(d.reason, reason)
    if (field) assert.equal(d.field, field)
    return true
  })
}

test('parses bare, named and quoted addresses', () => {
  assert.deepEqual(parseAddress('a@Example.COM', 'to'), { address: 'a@example.com', domain: 'example.com' })
  assert.deepEqual(parseAddress('Ann Lee <ann@x.io>', 'from'), { address: 'ann@x.io', domain: 'x.io', name: 'Ann Lee' })
  assert.deepEqual(parseAddress('"Lee, Ann" <ann@x.io>', 'from'), { address: 'ann@x.io', domain: 'x.io', name: 'Lee, Ann' })
  assert.deepEqual(parseAddress({ email: 'ann@x.io', name: 'Ann' }, 'from'), { address: 'ann@x.io', domain: 'x.io', name: 'Ann' })
  assert.equal(parseAddress('John Q. Public <j@x.io>', 'to').name, 'John Q. Public')
  assert.equal(parseAddress('Zoë Ångström <z@x.io>', 'to').name, 'Zoë Ångström')
})

test('converts IDN domains to lower-case punycode', () => {
  assert.equal(parseAddress('info@Bücher.DE', 'to').domain, 'xn--bcher-kva.de')
  assert.equal(parseAddress('info@Bücher.DE', 'to').address, 'info@xn--bcher-kva.de')
})

test('enforces RFC 5321 length limits', () => {
  refused(() => parseAddress(`${'a'.repeat(65)}@x.io`, 'to'), 'local_part_too_long')
  parseAddress(`${'a'.repeat(64)}@x.io`, 'to')
  const label = 'a'.repeat(63)
  refused(() => parseAddress(`a@${[label, label, label, label].join('.')}.io`, 'to'), 'domain_too_long')
  refused(() => parseAddress(`${'a'.repeat(64)}@${[label, label, label].join('.')}.io`, 'to'), 'address_too_long')
  refused(() => parseAddress(`a@${'b'.repeat(64)}.io`, 'to'), 'invalid_domain')
  refused(() => parseAddress('x'.repeat(100_000), 'to'), 'too_long')
})

test('refuses malformed addresses', () => {
  refused(() => parseAddress('a@@x.io', 'to'), 'invalid_address')
  refused(() => parseAddress('a.@x.io', 'to'), 'invalid_local_part')
  refused(() => parseAddress('a..b@x.io', 'to'), 'invalid_local_part')
  refused(() => parseAddress('"a b"@x.io', 'to'), 'invalid_local_part')
  refused(() => parseAddress('a@localhost', 'to'), 'invalid_domain')
  refused(() => parseAddress('a@[127.0.0.1]', 'to'), 'address_literal')
  refused(() => parseAddress('a@1.2.3.4', 'to'), 'invalid_domain')
  refused(() => parseAddress('a@-x.io', 'to'), 'invalid_domain')
  refused(() => parseAddress('a@x_y.io', 'to'), 'invalid_domain')
  refused(() => parseAddress('Ann <a@x.io> trailing', 'to'), 'invalid_address')
  refused(() => parseAddress('', 'to'), 'empty')
  refused(() => parseAddress(42 as any, 'to'), 'not_a_string')
})

test('refuses CR, LF, NUL and other control characters anywhere', () => {
  for (const evil of ['a@x.io\r\nBcc: victim@y.io', 'a@x.io\nBcc: v@y.io', 'a\u0000@x.io', 'Ann\r\nBcc: v@y.io <a@x.io>', 'a@x.io\u2028', 'a@x.io\u0085']) {
    refused(() => parseAddress(evil, 'to'), 'control_characters', 'to')
  }
  refused(() => parseAddress({ email: 'a@x.io', name: 'Ann\r\nBcc: v@y.io' }, 'reply_to'), 'control_characters', 'reply_to.name')
})

test('refuses display-name tricks', () => {
  refused(() => parseAddress('"support@bank.com" <evil@x.io>', 'from'), 'name_tricks')
  refused(() => parseAddress('"support＠bank.com" <evil@x.io>', 'from'), 'name_tricks')
  refused(() => parseAddress('"support﹫bank.com" <evil@x.io>', 'from'), 'name_tricks')
  refused(() => parseAddress('"Bank <support@bank.com>" <evil@x.io>', 'from'), 'name_tricks')
  refused(() => parseAddress('support@bank.com <evil@x.io>', 'from'), 'name_specials')
  refused(() => parseAddress('"a"b" <evil@x.io>', 'from'), 'name_quoting')
  refused(() => parseAddress('"unterminated <evil@x.io>', 'from'), 'name_quoting')
  refused(() => parseAddress('=?utf-8?B?c3VwcG9ydEBiYW5rLmNvbQ==?= <evil@x.io>', 'from'), 'encoded_word')
  refused(() => parseAddress('Bank\u202Emoc.knab <evil@x.io>', 'from'), 'bidi_characters')
  refused(() => parseAddress('Ba\u200Bnk <evil@x.io>', 'from'), 'invisible_characters')
  refused(() => parseAddress({ email: 'evil@x.io', name: 'x@bank.com' }, 'from'), 'name_tricks', 'from.name')
})

test('lists: comma-separated, arrays, limits and element names', () => {
  const l = parseAddressList('a@x.io, "B, Inc." <b@y.io>', 'to')
  assert.deepEqual(l.map((a) => a.address), ['a@x.io', 'b@y.io'])
  // Duplicates are dropped case-insensitively: no mailbox gets the message twice.
  assert.equal(parseAddressList(['a@x.io', 'A@x.io'], 'to').length, 1)
  assert.equal(parseAddressList(['a@x.io', 'a@X.io'], 'to').length, 1)
  refused(() => parseAddressList(['a@x.io', 'bad'], 'cc'), 'invalid_address', 'cc[1]')
  refused(() => parseAddressList(Array.from({ length: 51 }, (_, i) => `u${i}@x.io`), 'bcc'), 'too_many')
  refused(() => parseAddressList([], 'to', { min: 1 }), 'too_few')
})

test('errors never echo the offending value', () => {
  const evil = `${'z'.repeat(5000)}\r\nBcc: victim@y.io`
  try { parseAddress(evil, 'to'); assert.fail('accepted') } catch (e) {
    const s = JSON.stringify({ m: (e as AppError).message, d: (e as AppError).details })
    assert.ok(!s.includes('victim') && !s.includes('zzzz'))
  }
})
