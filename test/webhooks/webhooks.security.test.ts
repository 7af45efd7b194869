import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { discardAudit } from '../../src/core/audit-sink.ts'
import { createWebhookService } from '../../src/webhooks/service.ts'
import { startReceiver } from './receiver.ts'
import { delivered, guardedTransport, logSink, recordOutcome, sendMessage, testDispatcher } from './helpers.ts'

const REFUSED = 'url must be a public https:// endpoint without credentials.'

/** SSRF, scopes and input attacks on /v1/webhooks, with private targets NOT allowed (the production default). */
test('webhook security (private targets not allowed)', { timeout: 60_000 }, async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const create = (payload: unknown, key = org.liveKey) => h.http.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(key), payload: payload as object })

  await t.test('private, loopback, link-local, metadata and non-https URLs are refused at creation with one fixed answer', async () => {
    const targets = [
      'https://127.0.0.1/hook', 'https://127.8.9.10/hook', 'https://[::1]/hook', 'https://localhost/hook',
      'https://10.1.2.3/hook', 'https://172.16.0.1/hook', 'https://192.168.1.1/hook', 'https://[fd00::1]/hook',
      'https://169.254.169.254/latest/meta-data/', 'https://[fe80::1]/hook', 'https://[::ffff:169.254.169.254]/x',
      'https://[::ffff:7f00:1]/x', 'https://0.0.0.0/hook', 'https://100.64.0.1/hook', 'https://[64:ff9b::a9fe:a9fe]/x',
      'https://2130706433/hook', 'https://0x7f.1/hook', 'https://metadata.google.internal/computeMetadata/v1/',
      'http://93.184.216.34/hook', 'http://127.0.0.1/hook', 'ftp://93.184.216.34/hook', 'file:///etc/passwd',
      'https://user:pass@93.184.216.34/hook', 'not a url at all',
    ]
    for (const url of targets) {
      const res = await create({ url })
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`)
      assert.equal(res.json().error.code, 'url_not_allowed')
      assert.equal(res.json().error.message, REFUSED, url)
    }
    const ok = await create({ url: 'https://93.184.216.34/hook' })
    assert.equal(ok.statusCode, 201, ok.body)
    const patch = await h.http.inject({ method: 'PATCH', url: `/v1/webhooks/${ok.json().id}`, headers: bearer(org.liveKey), payload: { url: 'https://169.254.169.254/latest' } })
    assert.equal(patch.statusCode, 400, 'the same guard on update')
  })

  await t.test('at send time the host is resolved again, and a rebinding to loopback is refused before connecting', async (t) => {
    const rx = await startReceiver(t)
    let answers = 0
    // First answer (create time) public; every later answer (send time) the receiver on loopback.
    const rebinding = async () => (answers++ === 0 ? ['93.184.216.34'] : ['127.0.0.1'])
    const transport = guardedTransport(false, rebinding)
    // An org of its own: no endpoint of another case (public IPs, unreachable here) receives this event.
    const org = await h.seedOrg('Rebinding')
    const service = createWebhookService({ db: h.db, cipher: h.app.envelope, clock: h.clock, audit: discardAudit, transport })
    const principal = { orgId: org.orgId, actor: { type: 'key' as const, id: org.liveKeyId }, scopes: ['webhooks:manage'], environment: 'live' as const, credentialId: org.liveKeyId }
    const hook = await service.create(principal, { url: `https://rebind.example.test:${rx.port}/hooks`, events: ['message.delivered'] })
    const mixed = createWebhookService({ db: h.db, cipher: h.app.envelope, clock: h.clock, audit: discardAudit, transport: guardedTransport(false, async () => ['93.184.216.34', '10.0.0.1']) })
    await assert.rejects(mixed.create(principal, { url: 'https://mixed.example.test/hooks' }), /public https/, 'one private address in the answer is enough to refuse')

    await h.seedDomain(org.orgId, 'rebind.test', 'ed25519')
    await recordOutcome(h, org, await sendMessage(h, org, 'rebind.test'), delivered)
    const logs = logSink()
    assert.equal(await testDispatcher(h, transport, logs.logger).runOnce(), 1)
    assert.equal(rx.got.length, 0, 'the receiver on loopback was never reached')
    const attempts = await service.deliveries(principal, hook.id, {})
    assert.equal(attempts.data.length, 1)
    assert.equal(attempts.data[0].ok, false)
    assert.equal(attempts.data[0].status_code, null)
    assert.match(attempts.data[0].error!, /non-public address: loopback \(RFC 1122\)/)
    assert.equal(attempts.data[0].delivery_state, 'pending', 'retried later: DNS may be fixed')
    await service.remove(principal, hook.id)
  })

  await t.test('an endpoint stored while private targets were allowed is refused once they are not', async (t) => {
    const rx = await startReceiver(t, [307])
    const org2 = await h.seedOrg('Flip')
    const permissive = createWebhookService({ db: h.db, cipher: h.app.envelope, clock: h.clock, audit: discardAudit, transport: guardedTransport(true) })
    const principal = { orgId: org2.orgId, actor: { type: 'key' as const, id: org2.liveKeyId }, scopes: ['webhooks:manage'], environment: 'live' as const, credentialId: org2.liveKeyId }
    const hook = await permissive.create(principal, { url: rx.url, events: ['message.delivered'] })
    await h.seedDomain(org2.orgId, 'flip.test', 'ed25519')
    await recordOutcome(h, org2, await sendMessage(h, org2, 'flip.test'), delivered)
    const logs = logSink()
    await testDispatcher(h, guardedTransport(false), logs.logger).runOnce()
    assert.equal(rx.got.length, 0)
    const [attempt] = (await permissive.deliveries(principal, hook.id, {})).data
    assert.match(attempt.error!, /scheme http: is not allowed/)

    // Allowed again, the receiver answers a redirect: it is not followed, and counts as a failure.
    h.clock.advance(60_000)
    await testDispatcher(h, guardedTransport(true), logs.logger).runOnce()
    assert.equal(rx.got.length, 1)
    const [latest] = (await permissive.deliveries(principal, hook.id, {})).data
    assert.equal(latest.status_code, 307)
    assert.equal(latest.ok, false)
    assert.match(latest.error!, /redirects are not followed/)
    await permissive.remove(principal, hook.id)
  })

  await t.test('every webhook route needs webhooks:manage', async () => {
    const limited = await h.seedOrg('Limited', ['messages:send', 'messages:read', 'keys:manage'])
    const id = (await create({ url: 'https://93.184.216.34/other' })).json().id
    for (const [method, url] of [['POST', '/v1/webhooks'], ['GET', '/v1/webhooks'], ['GET', `/v1/webhooks/${id}`], ['PATCH', `/v1/webhooks/${id}`], ['DELETE', `/v1/webhooks/${id}`], ['POST', `/v1/webhooks/${id}/rotate-secret`], ['GET', `/v1/webhooks/${id}/deliveries`]]) {
      const res = await h.http.inject({ method: method as 'GET', url, headers: bearer(limited.liveKey), ...(method === 'POST' || method === 'PATCH' ? { payload: { url: 'https://93.184.216.34/x' } } : {}) })
      assert.equal(res.statusCode, 403, `${method} ${url}`)
      assert.equal(res.json().error.code, 'insufficient_scope')
    }
  })

  await t.test('another organization\'s webhook is a 404 exactly like a missing one', async () => {
    const other = await h.seedOrg('Other')
    const id = (await create({ url: 'https://93.184.216.34/mine' })).json().id
    const missing = id.slice(0, -4) + (id.endsWith('0000') ? '1111' : '0000')
    for (const [method, url, payload] of [['GET', ''], ['PATCH', '', { enabled: false }], ['DELETE', ''], ['POST', '/rotate-secret', {}], ['GET', '/deliveries']] as const) {
      const theirs = await h.http.inject({ method, url: `/v1/webhooks/${id}${url}`, headers: bearer(other.liveKey), ...(payload ? { payload } : {}) })
      const none = await h.http.inject({ method, url: `/v1/webhooks/${missing}${url}`, headers: bearer(other.liveKey), ...(payload ? { payload } : {}) })
      assert.equal(theirs.statusCode, 404, `${method} ${url}`)
      assert.equal(theirs.body, none.body)
    }
    const mine = await h.http.inject({ method: 'GET', url: `/v1/webhooks/${id}`, headers: bearer(org.liveKey) })
    assert.equal(mine.json().enabled, true, 'unchanged')
    const list = await h.http.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(other.liveKey) })
    assert.deepEqual(list.json().data, [])
  })

  await t.test('unknown fields, unknown events, oversized and control-character input are refused with 400', async () => {
    const bad = [
      { url: 'https://93.184.216.34/x', secret: 'whsec_mine' },
      { url: 'https://93.184.216.34/x', events: ['message.opened'] },
      { url: 'https://93.184.216.34/x', events: [] },
      { url: 'https://93.184.216.34/x', events: ['message.delivered', 'message.delivered'] },
      { url: `https://93.184.216.34/${'a'.repeat(2100)}` },
      { url: 'https://93.184.216.34/x', description: 'line\r\nbreak' },
      { url: 'https://93.184.216.34/x', description: 'd'.repeat(201) },
      { events: ['message.delivered'] },
    ]
    for (const payload of bad) {
      const res = await create(payload)
      assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    }
    const id = (await create({ url: 'https://93.184.216.34/y' })).json().id
    const empty = await h.http.inject({ method: 'PATCH', url: `/v1/webhooks/${id}`, headers: bearer(org.liveKey), payload: {} })
    assert.equal(empty.statusCode, 400)
    const badId = await h.http.inject({ method: 'GET', url: '/v1/webhooks/whk_../../keys', headers: bearer(org.liveKey) })
    assert.equal(badId.statusCode, 400)
    const rotateBody = await h.http.inject({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret`, headers: bearer(org.liveKey), payload: { secret: 'whsec_chosen' } })
    assert.equal(rotateBody.statusCode, 400, 'a caller cannot choose the secret')
  })
})
