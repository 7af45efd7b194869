import { test } from 'node:test'
import assert from 'node:assert/strict'
import ipaddr from 'ipaddr.js'
import { classifyAddress, isAllowed, type AddressClass } from '../../src/net/classify.ts'
import { IPV4_SPECIAL, IPV6_SPECIAL, type SpecialRange } from '../../src/net/special-ranges.ts'

// What the issue requires, by prefix: removing a row from the table turns this red.
const REQUIRED_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32']
const REQUIRED_V6 = ['::/128', '::1/128', '::ffff:0:0/96', '::/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001::/32',
  '2001:db8::/32', '2002::/16', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8', '3fff::/20', '5f00::/16']

test('the tables hold every special-purpose range the issue lists, each with its RFC', () => {
  assert.deepEqual(IPV4_SPECIAL.map((r) => r.cidr).sort(), [...REQUIRED_V4].sort())
  assert.deepEqual(IPV6_SPECIAL.map((r) => r.cidr).sort(), [...REQUIRED_V6].sort())
  for (const row of [...IPV4_SPECIAL, ...IPV6_SPECIAL]) {
    assert.match(row.rfc, /^RFC \d{3,4}$/, row.cidr)
    assert.ok(ipaddr.isValidCIDR(row.cidr), row.cidr)
    if (row.kind === 'embedded') assert.ok(row.v4At !== undefined && row.v4At % 16 === 0, `${row.cidr} says where its IPv4 address is`)
  }
  // Only loopback and private networks can be opened by the escape hatch; metadata never.
  assert.deepEqual(IPV4_SPECIAL.filter((r) => r.kind === 'internal').map((r) => r.cidr).sort(), ['10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])
  assert.deepEqual(IPV6_SPECIAL.filter((r) => r.kind === 'internal').map((r) => r.cidr).sort(), ['::1/128', 'fc00::/7'])
})

const toBig = (a: ipaddr.IPv4 | ipaddr.IPv6) => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n)
function fromBig(n: bigint, bytes: number): string {
  const out: number[] = []
  for (let i = 0; i < bytes; i++) { out.unshift(Number(n & 0xffn)); n >>= 8n }
  const a = ipaddr.fromByteArray(out)
  return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toNormalizedString() : a.toString()
}

/** The row's first and last address, and the addresses just outside it. */
function edges(row: SpecialRange) {
  const [net, bits] = ipaddr.parseCIDR(row.cidr)
  const width = net.kind() === 'ipv4' ? 32 : 128
  const first = toBig(net) & ~((1n << BigInt(width - bits)) - 1n)
  const last = first | ((1n << BigInt(width - bits)) - 1n)
  const max = (1n << BigInt(width)) - 1n
  return { width, inside: [first, last], outside: [first - 1n, last + 1n].filter((n) => n >= 0n && n <= max) }
}

/** A narrower row covering the address names it instead (Teredo inside 2001::/23, ::1 inside ::/96). */
function narrowerRowCovers(row: SpecialRange, address: string): boolean {
  const a = ipaddr.parse(address)
  const [, bits] = ipaddr.parseCIDR(row.cidr)
  return [...IPV4_SPECIAL, ...IPV6_SPECIAL].some((o) => {
    const [net, b] = ipaddr.parseCIDR(o.cidr)
    return o !== row && b > bits && net.kind() === a.kind() && a.match(net, b)
  })
}

const rowOf = (c: AddressClass) => (c.global ? null : c.via ?? c.range)

test('every row refuses its first and last address, and nothing just outside it is named by it', () => {
  for (const row of [...IPV4_SPECIAL, ...IPV6_SPECIAL]) {
    const e = edges(row)
    for (const n of e.inside) {
      const address = fromBig(n, e.width / 8)
      if (narrowerRowCovers(row, address)) continue
      const c = classifyAddress(address)
      assert.equal(c.global, false, `${address} (${row.cidr}) is refused`)
      assert.equal(rowOf(c), row, `${address} is named by ${row.cidr}`)
    }
    for (const n of e.outside) {
      const address = fromBig(n, e.width / 8)
      assert.notEqual(rowOf(classifyAddress(address)), row, `${address} is outside ${row.cidr}`)
    }
  }
})

test('embedded IPv4 addresses are read from the right bits and classified', () => {
  const mapped = classifyAddress('::ffff:10.1.2.3')
  assert.ok(!mapped.global && mapped.range.name === 'private-use' && mapped.via?.name === 'ipv4-mapped')
  const sixToFour = classifyAddress('2002:a9fe:a9fe:1234::1')
  assert.ok(!sixToFour.global && sixToFour.range.name === 'link-local' && sixToFour.via?.name === '6to4')
  const nat64 = classifyAddress('64:ff9b::7f00:1')
  assert.ok(!nat64.global && nat64.range.name === 'loopback' && nat64.via?.name === 'nat64')
  // The same bits elsewhere are not an embedding: 2002:: carries its IPv4 in bits 16-48, not at the end.
  assert.equal(classifyAddress('2002:5db8:d822::7f00:1').global, true)
  assert.equal(classifyAddress('64:ff9b::5db8:d822').global, true)
})

test('only canonical address text is classified: odd forms and zone ids are not addresses here', () => {
  for (const odd of ['0177.0.0.1', '127.1', '0x7f.0.0.1', '2130706433', '127.0.0.01', ' 127.0.0.1', '127.0.0.1 ', 'fe80::1%eth0', '[::1]', '', '1.2.3.4.5', '256.1.1.1']) {
    const c = classifyAddress(odd)
    assert.ok(!c.global && c.range.name === 'invalid-address', JSON.stringify(odd))
  }
})

test('the escape hatch opens loopback and private networks only', () => {
  const open = ['127.0.0.1', '10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:192.168.0.1']
  const shut = ['169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.1', 'fe80::1', '::7f00:1', '::a9fe:a9fe', '64:ff9b::7f00:1', '2002:7f00:1::1', '2001::1', 'ff02::1', '::', '4000::1']
  for (const a of open) {
    assert.equal(isAllowed(classifyAddress(a), false), false, `${a} refused without the hatch`)
    assert.equal(isAllowed(classifyAddress(a), true), true, `${a} allowed with the hatch`)
  }
  for (const a of shut) assert.equal(isAllowed(classifyAddress(a), true), false, `${a} refused even with the hatch`)
})

test('positive control: global unicast addresses pass', () => {
  for (const a of ['93.184.216.34', '1.1.1.1', '8.8.8.8', '100.128.0.1', '172.32.0.1', '192.169.0.1', '2606:2800:220:1:248:1893:25c8:1946', '2a00:1450:4001::1', '::ffff:8.8.8.8']) {
    assert.equal(classifyAddress(a).global, true, a)
    assert.equal(isAllowed(classifyAddress(a), false), true, a)
  }
})
