import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/load.ts'
import { createTestClock } from '../../src/core/clock.ts'
import type { MxResolver } from '../../src/delivery/mx.ts'
import { outcomesOf } from '../../src/delivery/outcomes.ts'
import { createSmtpTransport } from '../../src/delivery/smtp-transport.ts'
import type { ResolveHost } from '../../src/net/resolve.ts'
import { testCerts } from '../helpers/certs.ts'
import { bearer, buildTestApp } from '../helpers/harness.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * SMTP SSRF: whoever controls a recipient domain controls its MX and A records. Every test
 * plays DNS (no real lookups); the sink listens on 127.0.0.1 at the MX port and counts
 * connections, so a refused destination must leave it untouched.
 */
const MX_HOST = 'mx.attacker.example'
const REASON = `MX host ${MX_HOST} resolves only to non-public addresses`
const mxOf = (...hosts: string[]): MxResolver => ({ resolveMx: async () => hosts.map((exchange, i) => ({ exchange, priority: 10 * (i + 1) })) })
const zone = (records: Record<string, string[]>): ResolveHost & { calls: string[] } => {
  const calls: string[] = []
  return Object.assign(async (host: string) => {
    calls.push(host)
    const answer = records[host]
    if (!answer) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return answer
  }, { calls })
}

/** What uses a sink, closed newest first and before the sink (whose close waits for pooled connections). */
const closers = new Map<SmtpSink, (() => Promise<unknown>)[]>()
async function sinkFor(t: { after(fn: () => Promise<void>): void }): Promise<SmtpSink> {
  const sink = await startSmtpSink()
  closers.set(sink, [])
  t.after(async () => {
    for (const close of closers.get(sink)!.reverse()) await close()
    await sink.close()
  })
  return sink
}

async function transportTo(t: { after(fn: () => Promise<void>): void }, sink: SmtpSink, resolver: MxResolver, resolveHost: ResolveHost, allowPrivate: boolean) {
  const transport = createSmtpTransport({
    mxPort: sink.port, extraCaPem: (await testCerts()).caPem, clock: createTestClock(), maxConnectionsPerHost: 1,
    // Short: when a mutation lets a refused address through, it fails fast instead of stalling the run.
    timeoutMs: 1500, resolver, resolveHost, allowPrivate,
  })
  closers.get(sink)!.push(() => transport.close())
  return transport
}
const send = (transport: ReturnType<typeof createSmtpTransport>) =>
  transport.send({ domain: 'attacker.example', from: 'a@sealpost.test', to: ['victim@attacker.example'], raw: Buffer.from('Subject: x\r\n\r\nhi\r\n') })

describe('direct-to-MX SSRF guard', () => {
  const refused = ['127.0.0.1', '169.254.169.254', '10.0.0.1', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1']
  for (const address of refused) {
    test(`an MX host resolving to ${address} fails permanently, with no connection (hatch off)`, async (t) => {
      const sink = await sinkFor(t)
      const transport = await transportTo(t, sink, mxOf(MX_HOST), zone({ [MX_HOST]: [address] }), false)
      const report = await send(transport)
      assert.deepEqual(report.results, [{ address: 'victim@attacker.example', status: 'failed', detail: REASON, destinationFault: true }])
      assert.equal(sink.counts.connections, 0)
      // The reason names the MX host, never the internal address it pointed at.
      assert.ok(!report.results[0].detail.includes(address))
    })
  }

  test('implicit MX (no MX record: the domain A record) and an MX naming an address literal are checked too', async (t) => {
    const sink = await sinkFor(t)
    const implicit = await transportTo(t, sink, { resolveMx: async () => { throw Object.assign(new Error('no data'), { code: 'ENODATA' }) } }, zone({ 'attacker.example': ['127.0.0.1'] }), false)
    assert.deepEqual((await send(implicit)).results.map((r) => [r.status, r.detail]), [['failed', 'MX host attacker.example resolves only to non-public addresses']])
    const literal = await transportTo(t, sink, mxOf('127.0.0.1'), zone({}), false)
    assert.deepEqual((await send(literal)).results.map((r) => [r.status, r.detail]), [['failed', 'MX host 127.0.0.1 resolves only to non-public addresses']])
    assert.equal(sink.counts.connections, 0)
  })

  test('every MX host refused: one permanent failure naming them all', async (t) => {
    const sink = await sinkFor(t)
    const transport = await transportTo(t, sink, mxOf('mx1.attacker.example', 'mx2.attacker.example'), zone({ 'mx1.attacker.example': ['10.1.2.3'], 'mx2.attacker.example': ['127.0.0.1', 'fd00::1'] }), false)
    assert.deepEqual((await send(transport)).results.map((r) => [r.status, r.detail]), [['failed', 'MX hosts mx1.attacker.example, mx2.attacker.example resolve only to non-public addresses']])
    assert.equal(sink.counts.connections, 0)
  })

  test('cloud metadata (link-local) and NAT64-translated loopback stay refused with the hatch on', async (t) => {
    const sink = await sinkFor(t)
    for (const address of ['169.254.169.254', 'fe80::1', '64:ff9b::7f00:1', '0.0.0.0']) {
      const transport = await transportTo(t, sink, mxOf(MX_HOST), zone({ [MX_HOST]: [address] }), true)
      assert.deepEqual((await send(transport)).results.map((r) => [r.status, r.detail]), [['failed', REASON]], address)
    }
    assert.equal(sink.counts.connections, 0)
  })

  test('hatch on: a refused answer is dropped and the connection goes to the allowed address; the host is resolved once', async (t) => {
    const sink = await sinkFor(t)
    // Metadata first: were it not dropped, the pinned connection would go there and time out.
    const dns = zone({ localhost: ['169.254.169.254', '127.0.0.1'] })
    const transport = await transportTo(t, sink, mxOf('localhost'), dns, true)
    assert.deepEqual((await send(transport)).results.map((r) => r.status), ['delivered'])
    assert.equal(sink.counts.connections, 1)
    assert.deepEqual(dns.calls, ['localhost'])
  })

  test('hatch on: a refused first MX host is skipped for the next one', async (t) => {
    const sink = await sinkFor(t)
    const transport = await transportTo(t, sink, mxOf(MX_HOST, 'localhost'), zone({ [MX_HOST]: ['169.254.169.254'], localhost: ['127.0.0.1'] }), true)
    assert.deepEqual((await send(transport)).results.map((r) => r.status), ['delivered'])
    assert.equal(sink.counts.connections, 1)
  })

  test('the connection goes to the pinned address, and the certificate is verified against the MX host name', async (t) => {
    const sink = await sinkFor(t)
    // The sink's certificate covers localhost and IP 127.0.0.1, not this name: TLS must fail.
    const transport = await transportTo(t, sink, mxOf('mx.sealpost.invalid'), zone({ 'mx.sealpost.invalid': ['127.0.0.1'] }), true)
    const [result] = (await send(transport)).results
    assert.equal(result.status, 'deferred')
    assert.equal(result.tls, true)
    assert.equal(sink.messages.length, 0)
    // The socket reached the sink although .invalid never resolves: it went to the pinned address.
    assert.equal(sink.counts.connections, 1)
  })

  test('an MX host that does not resolve is temporary, not a refusal', async (t) => {
    const sink = await sinkFor(t)
    const transport = await transportTo(t, sink, mxOf(MX_HOST, 'mx2.attacker.example'), zone({ 'mx2.attacker.example': ['10.0.0.1'] }), false)
    assert.deepEqual((await send(transport)).results.map((r) => [r.status, r.detail]), [['deferred', `MX host ${MX_HOST} does not resolve (ENOTFOUND)`]])
  })

  test('a refused destination fails the recipient without a hard bounce, so it is not suppressed', () => {
    const result = outcomesOf({ results: [{ address: 'victim@attacker.example', status: 'failed', detail: REASON, destinationFault: true }], throttle: null }, [{ address: 'victim@attacker.example', index: 0 }], 1, 5)
    assert.deepEqual(result.outcomes, [{ kind: 'failed', recipients: ['victim@attacker.example'], reason: REASON, bounce: null }])
    assert.deepEqual(result.settled, [0])
  })

  test('SEALPOST_DELIVERY_ALLOW_PRIVATE is off unless set', () => {
    assert.equal(loadConfig({}).delivery.allowPrivate, false)
    assert.equal(loadConfig({ SEALPOST_DELIVERY_ALLOW_PRIVATE: 'true' }).delivery.allowPrivate, true)
  })
})

describe('direct-to-MX SSRF guard, through the app (config hatch, AppDeps resolvers, outcomes)', () => {
  async function appTo(sink: SmtpSink, mxHost: string, env: Record<string, string>) {
    const h = await buildTestApp({
      env: { SMTP_MX_PORT: String(sink.port), SMTP_CA_FILE: (await testCerts()).caFile, DELIVERY_POLL_MS: '20', DELIVERY_SIGNING_THREADS: '0', ...env },
      // attacker.example points its MX at loopback; no real DNS anywhere.
      deps: { mxResolver: mxOf(mxHost), hostResolver: zone({ [mxHost]: ['127.0.0.1'] }) },
    })
    closers.get(sink)!.push(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'mail.acme.test')
    const get = async (path: string) => (await h.http.inject({ method: 'GET', url: path, headers: bearer(org.liveKey) })).json()
    const send = async () => {
      const r = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: { from: 'a@mail.acme.test', to: ['victim@attacker.example'], subject: 'x', text: 'hi' } })
      assert.equal(r.statusCode, 202, r.body)
      return r.json().id as string
    }
    /** Polls until the message is final; the bound is far above what a loopback sink needs. */
    const final = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const m = await get(`/v1/messages/${id}`)
        if (m.status === 'failed' || m.status === 'delivered') return m
        await new Promise((r) => setTimeout(r, 50))
      }
      assert.fail(`message ${id} never became final`)
    }
    return { h, get, send, final }
  }

  test('hatch off (the default): the message fails with the reason, nothing connects, and the recipient is not suppressed', async (t) => {
    const sink = await sinkFor(t)
    // A name only the injected resolver knows: the app must hand AppDeps.hostResolver to delivery.
    const { h, get, send, final } = await appTo(sink, MX_HOST, {})
    const workers = await h.app.startWorkers()
    closers.get(sink)!.push(() => workers.stop())
    const m = await final(await send())
    assert.equal(m.status, 'failed')
    assert.equal(m.events.at(-1).reason, REASON)
    assert.equal(sink.counts.connections, 0)
    assert.deepEqual((await get('/v1/suppressions')).data, [])
  })

  test('SEALPOST_DELIVERY_ALLOW_PRIVATE=true: the same loopback MX receives the message', async (t) => {
    const sink = await sinkFor(t)
    // localhost: the name the sink's certificate carries.
    const { h, send, final } = await appTo(sink, 'localhost', { SEALPOST_DELIVERY_ALLOW_PRIVATE: 'true' })
    const workers = await h.app.startWorkers()
    closers.get(sink)!.push(() => workers.stop())
    const m = await final(await send())
    assert.equal(m.status, 'delivered', JSON.stringify(m.events))
    assert.deepEqual(sink.messages.map((x) => x.envelope.rcptTo), [['victim@attacker.example']])
  })
})
