import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeRange, parseRange, rangeWithin } from '../../src/access/ip-ranges.ts'
import { ipAllowed } from '../../src/access/conditions.ts'

const allowed = (ranges: string[], ip: string) => ipAllowed({ ipRanges: ranges }, ip)

test('IPv4 CIDR ranges match addresses inside and refuse those outside', () => {
  assert.equal(allowed(['203.0.113.0/24'], '203.0.113.77'), true)
  assert.equal(allowed(['203.0.113.0/24'], '203.0.114.1'), false)
  assert.equal(allowed(['198.51.100.7'], '198.51.100.7'), true, 'a bare address is a /32')
  assert.equal(allowed(['198.51.100.7'], '198.51.100.8'), false)
})

test('IPv6 CIDR ranges match, and an IPv4 range never matches an IPv6 client', () => {
  assert.equal(allowed(['2001:db8::/32'], '2001:db8:1234::1'), true)
  assert.equal(allowed(['2001:db8::/32'], '2001:db9::1'), false)
  assert.equal(allowed(['0.0.0.0/0'], '2001:db8::1'), false)
  assert.equal(allowed(['::/0'], '203.0.113.1'), false)
})

test('IPv4-mapped IPv6 clients and ranges are compared as IPv4', () => {
  assert.equal(allowed(['203.0.113.0/24'], '::ffff:203.0.113.5'), true)
  assert.equal(allowed(['203.0.113.0/24'], '::ffff:203.0.114.5'), false)
  assert.equal(allowed(['::ffff:203.0.113.0/120'], '203.0.113.9'), true)
  assert.equal(normalizeRange('::ffff:203.0.113.0/120'), '203.0.113.0/24')
})

test('malformed ranges and ambiguous IPv4 spellings are refused, not reinterpreted', () => {
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', 'example.com', '127.1', '0x7f.0.0.1/8', '10.0.0.0/', '', 'fe80::1%eth0/64']) {
    assert.equal(parseRange(bad), null, bad)
  }
  assert.equal(allowed(['not-a-range'], '10.0.0.1'), false, 'a corrupt stored range denies (fail closed)')
  assert.equal(allowed(['10.0.0.0/8'], 'garbage'), false)
})

test('ranges normalize to their network address', () => {
  assert.equal(normalizeRange('10.1.2.3/8'), '10.0.0.0/8')
  assert.equal(normalizeRange('2001:DB8:0:0::1/32'), '2001:db8::/32')
  assert.equal(normalizeRange('::1'), '::1/128')
})

test('rangeWithin: a narrower range inside a wider one, never the reverse', () => {
  const r = (s: string) => parseRange(s)!
  assert.equal(rangeWithin(r('10.1.0.0/16'), r('10.0.0.0/8')), true)
  assert.equal(rangeWithin(r('10.0.0.0/8'), r('10.1.0.0/16')), false)
  assert.equal(rangeWithin(r('11.0.0.0/16'), r('10.0.0.0/8')), false)
  assert.equal(rangeWithin(r('2001:db8:1::/48'), r('2001:db8::/32')), true)
  assert.equal(rangeWithin(r('10.0.0.0/16'), r('::/0')), false)
})
