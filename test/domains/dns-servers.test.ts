import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig, ConfigError } from '../../src/config/load.ts'
import { checkRecords, resolverFor } from '../../src/domains/dns-check.ts'
import { dnsRecordsFor } from '../../src/domains/dns-records.ts'
import { startDnsServer } from '../helpers/dns-server.ts'

test('SEALPOST_DNS_SERVERS takes IP addresses with optional ports and names each bad entry', () => {
  assert.deepEqual(loadConfig({ SEALPOST_DNS_SERVERS: '127.0.0.1:5353, [::1]:53,9.9.9.9' }).dnsServers, ['127.0.0.1:5353', '[::1]:53', '9.9.9.9'])
  assert.deepEqual(loadConfig({}).dnsServers, [])
  assert.throws(() => loadConfig({ SEALPOST_DNS_SERVERS: 'dns.example,1.2.3.4:99999,300.1.1.1' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError)
    assert.deepEqual(e.problems, [
      'SEALPOST_DNS_SERVERS: "dns.example" is not ip, ip:port or [ipv6]:port',
      'SEALPOST_DNS_SERVERS: "1.2.3.4:99999" is not ip, ip:port or [ipv6]:port',
      'SEALPOST_DNS_SERVERS: "300.1.1.1" is not ip, ip:port or [ipv6]:port',
    ])
    return true
  })
})

test('domain checks through the configured resolver: the ownership token must match exactly, long DKIM records arrive whole', async (t) => {
  const dns = await startDnsServer()
  t.after(() => dns.close())
  const domain = { name: 'resolved.example', dkim_selector: 'sp1', dkim_algorithm: 'rsa' as const, dkim_public_key: 'A'.repeat(392), verification_token: 'f'.repeat(32) }
  const records = dnsRecordsFor(domain, '_spf.sealpost.test')
  const resolver = resolverFor([dns.address])
  const ok = async () => Object.fromEntries((await checkRecords(resolver, records)).map((c) => [c.purpose, c.ok]))
  assert.deepEqual(await ok(), { verification: false, dkim: false, spf: false, dmarc: false })
  // Another organization's token, and this one's with something appended: neither proves this claim.
  dns.publish([{ name: '_sealpost-verification.resolved.example', value: `sealpost-verify=${'e'.repeat(32)}` }, { name: '_sealpost-verification.resolved.example', value: `sealpost-verify=${'f'.repeat(32)}x` }])
  dns.publish(records.filter((r) => r.purpose !== 'verification'))
  assert.deepEqual(await ok(), { verification: false, dkim: true, spf: true, dmarc: true })
  dns.publish(records.filter((r) => r.purpose === 'verification'))
  assert.deepEqual(await ok(), { verification: true, dkim: true, spf: true, dmarc: true })
})
