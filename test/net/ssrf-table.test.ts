import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { discardAudit } from '../../src/core/audit-sink.ts'
import { createOutboundGuard } from '../../src/net/guard.ts'
import { OutboundRefused } from '../../src/net/target.ts'
import { createWebhookService } from '../../src/webhooks/service.ts'
import { createPolicyStore } from '../../src/monitoring/policy.ts'
import type { WebhookTransport } from '../../src/webhooks/transport.ts'
import { delivered, logSink, recordOutcome, sendMessage, testDispatcher } from '../webhooks/helpers.ts'
import { ALLOWED, REFUSED, ZONE, zoneResolver } from './ssrf-cases.ts'

const withPort = (url: string, port: number) => url.replaceAll('PORT', String(port))

/** A TCP listener on every loopback address (dual stack) that counts connections and drops them. */
async function connectionCounter(t: { after(fn: () => unknown): void }) {
  let connections = 0
  const server: Server = createServer((socket) => { connections++; socket.destroy() })
  await new Promise<void>((r) => server.listen({ port: 0, host: '::', ipv6Only: false }, r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  return { port: (server.address() as { port: number }).port, connections: () => connections }
}

test('the table is large enough and every URL in it is different', () => {
  assert.ok(REFUSED.length >= 60, `${REFUSED.length} refused URLs`)
  assert.equal(new Set(REFUSED.map((c) => c.url)).size, REFUSED.length)
})

test('the guard refuses every URL of the table with its reason, and passes the positive controls', async () => {
  const guard = createOutboundGuard({ allowPrivate: false, resolve: zoneResolver() })
  for (const c of REFUSED) {
    const url = withPort(c.url, 8443)
    await assert.rejects(guard.check(url), (err: Error) => {
      assert.ok(err instanceof OutboundRefused, `${url}: ${err}`)
      assert.match(err.message, c.reason, url)
      return true
    })
  }
  for (const url of ALLOWED) {
    const checked = await guard.check(url)
    assert.ok(checked.addresses.length > 0, url)
  }
  // Every address of a name is checked and kept for the connection, not only the first.
  assert.deepEqual((await guard.check('https://public.attacker.example/')).addresses, [
    { address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }])
})

test('the escape hatch opens loopback and private receivers, and nothing else', async () => {
  const guard = createOutboundGuard({ allowPrivate: true, resolve: zoneResolver() })
  for (const url of ['https://127.0.0.1:8443/', 'http://127.0.0.1:8443/', 'https://[::1]/', 'http://[::ffff:127.0.0.1]/', 'https://10.0.0.1/', 'https://[fd00::1]/',
    'https://loopback.attacker.example/', 'https://lan.attacker.example/', 'https://mixed.attacker.example/']) {
    await guard.check(url)
  }
  const still: [string, RegExp][] = [
    ['https://169.254.169.254/latest/meta-data/', /link-local \(RFC 3927\)$/],
    ['https://metadata.attacker.example/', /link-local \(RFC 3927\)$/],
    ['https://[::ffff:169.254.169.254]/', /link-local \(RFC 3927\) via ipv4-mapped/],
    ['https://[::127.0.0.1]/', /ipv4-compatible/],
    ['https://[64:ff9b::127.0.0.1]/', /loopback \(RFC 1122\) via nat64/],
    ['https://[2002:7f00:1::]/', /loopback \(RFC 1122\) via 6to4/],
    ['https://0.0.0.0/', /this-network/],
    ['https://[fe80::1]/', /link-local \(RFC 4291\)/],
    ['https://224.0.0.1/', /multicast/],
    ['http://10.0.0.1/', /plain http is allowed only to loopback/],
    ['http://93.184.216.34/', /plain http is allowed only to loopback/],
    ['https://127.0.0.1:25/', /port 25/],
    ['https://user:pass@127.0.0.1/', /credentials/],
    ['https://x.onion/', /special-use name \(\.onion/],
    ['https://localhost./', /trailing dot/],
  ]
  for (const [url, reason] of still) await assert.rejects(guard.check(url), reason, url)
})

/** Private targets not allowed (the production default), and attacker-controlled DNS. */
async function strictApp(resolve = zoneResolver()) {
  return buildTestApp({ deps: { hostResolver: resolve } })
}

test('configuration time: every URL of the table is refused by POST/PATCH /v1/webhooks and PUT /v1/alerts/policy', { timeout: 120_000 }, async (t) => {
  const h = await strictApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const call = (method: 'POST' | 'PATCH' | 'PUT', url: string, payload: object) => h.http.inject({ method, url, headers: bearer(org.liveKey), payload })
  const control = await call('POST', '/v1/webhooks', { url: 'https://public.attacker.example/hook' })
  assert.equal(control.statusCode, 201, control.body)
  const id = control.json().id

  for (const c of REFUSED) {
    const url = withPort(c.url, 8443)
    for (const res of [
      await call('POST', '/v1/webhooks', { url }),
      await call('PATCH', `/v1/webhooks/${id}`, { url }),
      await call('PUT', '/v1/alerts/policy', { webhookUrl: url }),
    ]) {
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`)
      assert.equal(res.json().error.code, 'url_not_allowed', url)
      assert.doesNotMatch(res.body, /RFC|resolve|127\.|10\.0/, 'one fixed answer: nothing about internal DNS or addresses')
    }
  }
  const list = await h.http.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(org.liveKey) })
  assert.deepEqual(list.json().data.map((w: { url: string }) => w.url), ['https://public.attacker.example/hook'], 'nothing refused was stored')
  const policy = await h.http.inject({ method: 'GET', url: '/v1/alerts/policy', headers: bearer(org.liveKey) })
  assert.equal(policy.json().webhook, null)

  for (const url of ALLOWED) {
    assert.equal((await call('POST', '/v1/webhooks', { url })).statusCode, 201, url)
    const put = await call('PUT', '/v1/alerts/policy', { webhookUrl: url })
    assert.equal(put.statusCode, 200, `${url}: ${put.body}`)
  }
  // What is stored is the normalised URL the guard checked, not the text sent.
  const odd = await call('PUT', '/v1/alerts/policy', { webhookUrl: 'https://PUBLIC.attacker.example:443/a/../hook#frag' })
  assert.equal(odd.json().webhook.url, 'https://public.attacker.example/hook')
})

/** A webhook service and a policy store that store any URL: rows written before this guard existed, or by an older version. */
const storeAnything: WebhookTransport['check'] = async (u) => ({ url: new URL(String(u)), addresses: [] })
const storable = (url: string) => URL.canParse(url)

test('send time: the webhook dispatcher refuses every stored URL of the table and never connects', { timeout: 120_000 }, async (t) => {
  const rx = await connectionCounter(t)
  const h = await strictApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const legacy = createWebhookService({ db: h.db, cipher: h.app.envelope, clock: h.clock, audit: discardAudit, transport: { check: storeAnything, post: h.app.outbound.post } })
  const principal = { orgId: org.orgId, actor: { type: 'key' as const, id: org.liveKeyId }, scopes: ['webhooks:manage'], environment: 'live' as const, credentialId: org.liveKeyId }
  const cases = REFUSED.filter((c) => storable(c.url)).map((c) => ({ ...c, url: withPort(c.url, rx.port) }))
  const hooks = new Map<string, RegExp>()
  for (const c of cases) hooks.set((await legacy.create(principal, { url: c.url, events: ['message.delivered'] })).id, c.reason)

  await h.seedDomain(org.orgId, 'send-time.test', 'ed25519')
  await recordOutcome(h, org, await sendMessage(h, org, 'send-time.test'), delivered)
  // The app's own guard (h.app.outbound), as the dispatcher started with the workers uses it.
  const dispatcher = testDispatcher(h, h.app.outbound, logSink().logger, { batch: 200, timeoutMs: 2000 })
  assert.equal(await dispatcher.runOnce(), hooks.size)

  for (const [id, reason] of hooks) {
    const [attempt] = (await legacy.deliveries(principal, id, {})).data
    const url = (await legacy.get(principal, id)).url
    assert.equal(attempt.ok, false, url)
    assert.equal(attempt.status_code, null, url)
    assert.match(attempt.error!, reason, url)
  }
  assert.equal(rx.connections(), 0, 'nothing reached the loopback listener')
})

test('send time: the alert notifier refuses every stored URL of the table and never connects', { timeout: 120_000 }, async (t) => {
  const rx = await connectionCounter(t)
  const h = await strictApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const legacy = createPolicyStore({ db: h.db, cipher: h.app.envelope, clock: h.clock, outbound: { check: storeAnything } })
  let n = 0
  for (const c of REFUSED.filter((x) => storable(x.url))) {
    const url = withPort(c.url, rx.port)
    await legacy.set(org.orgId, { webhookUrl: url, rules: { complaint_rate_spike: { actions: ['notify'] } } }, 'user:usr_legacy')
    h.clock.advance(31_000) // past the app's policy cache
    const view = await h.app.monitoring.alerts.raise({ rule: 'complaint_rate_spike', severity: 'high', orgId: org.orgId, subject: { type: 'org', id: `case${n++}` }, summary: 's', evidence: {}, at: h.clock.now().getTime() })
    const hook = view.actions.find((a) => a.action === 'notify_webhook')
    assert.ok(hook, `${url}: notified`)
    assert.equal(hook.ok, false, url)
    assert.match(hook.detail!, c.reason, url)
  }
  assert.ok(n >= 60)
  assert.equal(rx.connections(), 0, 'nothing reached the loopback listener')
})

test('DNS rebinding: a name public when configured and loopback when sent is refused at send time', async (t) => {
  const rx = await connectionCounter(t)
  let asked = 0
  const h = await strictApp(async (host) => {
    if (host !== 'rebind.attacker.example') return zoneResolver()(host)
    return asked++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']
  })
  t.after(() => h.close())
  const org = await h.seedOrg()
  const url = `https://rebind.attacker.example:${rx.port}/hook`
  const created = await h.http.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(org.liveKey), payload: { url, events: ['message.delivered'] } })
  assert.equal(created.statusCode, 201, created.body)
  await h.seedDomain(org.orgId, 'rebind.test', 'ed25519')
  await recordOutcome(h, org, await sendMessage(h, org, 'rebind.test'), delivered)
  assert.equal(await testDispatcher(h, h.app.outbound, logSink().logger, { timeoutMs: 2000 }).runOnce(), 1)
  const attempts = await h.http.inject({ method: 'GET', url: `/v1/webhooks/${created.json().id}/deliveries`, headers: bearer(org.liveKey) })
  assert.match(attempts.json().data[0].error, /non-public address: loopback \(RFC 1122\)$/)
  assert.equal(asked, 2, 'resolved once at configuration, once at send')
  assert.equal(rx.connections(), 0)
})
