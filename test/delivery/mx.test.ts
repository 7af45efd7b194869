import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestClock } from '../../src/core/clock.ts'
import { createMxLookup, type MxResolver } from '../../src/delivery/mx.ts'
import { createSmtpTransport } from '../../src/delivery/smtp-transport.ts'
import { testCerts } from '../helpers/certs.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'

const dnsError = (code: string) => Object.assign(new Error(code), { code })

describe('MX lookup', () => {
  test('orders hosts by preference and strips the root dot', async () => {
    const lookup = createMxLookup({ resolveMx: async () => [{ exchange: 'b.mx.example.', priority: 20 }, { exchange: 'a.mx.example', priority: 10 }] }, createTestClock())
    assert.deepEqual(await lookup('example.org'), { kind: 'hosts', hosts: ['a.mx.example', 'b.mx.example'] })
  })

  test('no MX record: the domain itself is the mail host (RFC 5321 implicit MX)', async () => {
    const lookup = createMxLookup({ resolveMx: async () => { throw dnsError('ENODATA') } }, createTestClock())
    assert.deepEqual(await lookup('example.org'), { kind: 'hosts', hosts: ['example.org'] })
  })

  test('a null MX (RFC 7505) and a domain that does not exist are permanent', async () => {
    const nullMx = createMxLookup({ resolveMx: async () => [{ exchange: '', priority: 0 }] }, createTestClock())
    assert.deepEqual(await nullMx('example.org'), { kind: 'none', reason: 'example.org publishes a null MX: it accepts no mail' })
    const nx = createMxLookup({ resolveMx: async () => { throw dnsError('ENOTFOUND') } }, createTestClock())
    assert.equal((await nx('nope.example')).kind, 'none')
  })

  test('a DNS timeout is temporary and not cached; answers are cached for the TTL', async () => {
    let calls = 0
    let fail = true
    const resolver: MxResolver = { resolveMx: async () => { calls++; if (fail) throw dnsError('ETIMEOUT'); return [{ exchange: 'mx.example', priority: 1 }] } }
    const clock = createTestClock()
    const lookup = createMxLookup(resolver, clock, 1000)
    assert.equal((await lookup('example.org')).kind, 'error')
    fail = false
    await lookup('example.org')
    await lookup('example.org')
    assert.equal(calls, 2)
    clock.advance(1000)
    await lookup('example.org')
    assert.equal(calls, 3)
  })
})

describe('direct-to-MX transport', () => {
  test('an unreachable first MX falls through to the next one', async (t) => {
    const sink = await startSmtpSink()
    const transport = createSmtpTransport({
      mxPort: sink.port, extraCaPem: (await testCerts()).caPem, clock: createTestClock(), maxConnectionsPerHost: 1, timeoutMs: 5000,
      resolver: { resolveMx: async () => [{ exchange: 'mx1.unreachable.example', priority: 10 }, { exchange: 'localhost', priority: 20 }] },
      // 127.0.0.2 is loopback too, but nothing listens there: connection refused.
      resolveHost: async (host) => [host === 'localhost' ? '127.0.0.1' : '127.0.0.2'], allowPrivate: true,
    })
    t.after(async () => { await transport.close(); await sink.close() })
    const report = await transport.send({ domain: 'example.org', from: 'a@sealpost.test', to: ['b@example.org'], raw: Buffer.from('Subject: x\r\n\r\nhi\r\n') })
    assert.deepEqual(report.results.map((r) => r.status), ['delivered'])
    assert.equal(sink.messages.length, 1)
  })

  test('a null-MX domain fails hard without any connection', async () => {
    const transport = createSmtpTransport({
      mxPort: 25, clock: createTestClock(), maxConnectionsPerHost: 1,
      resolver: { resolveMx: async () => [{ exchange: '.', priority: 0 }] },
      resolveHost: async () => assert.fail('a null MX has no host to resolve'), allowPrivate: false,
    })
    const report = await transport.send({ domain: 'example.org', from: 'a@sealpost.test', to: ['b@example.org'], raw: Buffer.from('x') })
    assert.deepEqual(report.results.map((r) => [r.status, r.code]), [['failed', 550]])
    await transport.close()
  })
})
