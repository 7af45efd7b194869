import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { verifyWebhook } from '../../src/monitoring/webhook.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createLeakedKeyService } from '../../src/keys/leaked.ts'
import { findKey } from '../../src/keys/store.ts'
import { generateKey } from '../../src/keys/format.ts'
import { LEAK_REPORT_RATE_LIMIT } from '../../src/keys/routes.ts'
import type { AdminEvent } from '../../src/core/audit-sink.ts'
import { call, seedKey } from './helpers.ts'
import { eventually } from '../helpers/eventually.ts'
import { startReceiver } from '../webhooks/receiver.ts'

const finding = (token: string) => ({ token, type: 'sealpost_api_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content' })
const report = (h: Awaited<ReturnType<typeof buildTestApp>>, body: unknown) =>
  h.http.inject({ method: 'POST', url: '/v1/keys/leaked', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
const works = async (h: Awaited<ReturnType<typeof buildTestApp>>, key: string) => (await call(h, key, 'GET', '/v1/keys/policy')).statusCode

/** One character changed: the offline checksum fails. */
function flipOneChar(token: string): string {
  const i = 30
  return token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1)
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: leaked-key reports`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()

    await t.test('the route is public and carries its own rate-limit bucket', () => {
      const route = h.http.routeTable.find((r) => r.method === 'POST' && r.url === '/v1/keys/leaked')
      assert.equal(route?.config.public, true)
      assert.ok(route?.config.rateLimit && route.config.rateLimit.points > 0)
    })

    await t.test('a report of a live key revokes it at once; the answer is the same as for an unknown token', async () => {
      const leaked = await seedKey(h, { orgId: org.orgId })
      const innocent = await seedKey(h, { orgId: org.orgId })
      assert.equal(await works(h, leaked.secret), 200)
      const hit = await report(h, [finding(leaked.secret)])
      const miss = await report(h, [finding(generateKey('live').token)])
      assert.equal(hit.statusCode, 202)
      assert.equal(miss.statusCode, 202)
      assert.equal(hit.body, miss.body, 'the response must not reveal a match')
      assert.equal(await works(h, leaked.secret), 401)
      assert.equal(await works(h, innocent.secret), 200)
      const row = await findKey(h.db, org.orgId, leaked.id)
      assert.equal(row?.revoked_reason, 'leaked')
    })

    await t.test('a token with a bad checksum changes nothing', async () => {
      const key = await seedKey(h, { orgId: org.orgId })
      const r = await report(h, [finding(flipOneChar(key.secret)), finding('not even a token')])
      assert.equal(r.statusCode, 202)
      assert.equal(await works(h, key.secret), 200)
      assert.equal((await findKey(h.db, org.orgId, key.id))?.revoked_at, null)
    })

    await t.test('a leaked secret still inside its rotation grace window revokes the key', async () => {
      const key = await seedKey(h, { orgId: org.orgId })
      const rotated = (await call(h, org.liveKey, 'POST', `/v1/keys/${key.id}/rotate`)).json().secret
      assert.equal((await report(h, [finding(key.secret)])).statusCode, 202)
      assert.equal(await works(h, rotated), 401)
    })

    await t.test('malformed reports are 400, never 500, and never echo the token', async () => {
      for (const body of [{}, [], [{ token: 'x' }], [{ ...finding('x'), extra: 1 }], 'sp_live_x', Array(1001).fill(finding('x'))]) {
        const r = await report(h, body)
        assert.equal(r.statusCode, 400, JSON.stringify(body).slice(0, 60))
        assert.ok(!r.body.includes('sp_live_'))
      }
    })

    await t.test('one IP gets only its route bucket of reports, then 429 with Retry-After', async () => {
      const { points } = LEAK_REPORT_RATE_LIMIT
      const send = () => h.http.inject({ method: 'POST', url: '/v1/keys/leaked', remoteAddress: '198.51.100.99', payload: [finding('x')] })
      const codes: number[] = []
      for (let i = 0; i < points; i++) codes.push((await send()).statusCode)
      assert.ok(codes.every((c) => c === 202), codes.join())
      const last = await send()
      assert.equal(last.statusCode, 429)
      assert.ok(last.headers['retry-after'])
      const elsewhere = await h.http.inject({ method: 'POST', url: '/v1/keys/leaked', remoteAddress: '198.51.100.100', payload: [finding('x')] })
      assert.equal(elsewhere.statusCode, 202, 'another IP has its own bucket')
    })

    await t.test('the key\'s org gets a key.leaked_revoked event; the report itself is counted without tokens', async () => {
      const events: AdminEvent[] = []
      const svc = createLeakedKeyService({ db: h.db, pepper: h.app.deps.pepper, clock: h.clock, audit: { record: (e) => events.push(e) } })
      const key = await seedKey(h, { orgId: org.orgId })
      const result = await svc.report([finding(key.secret), finding(key.secret), finding(flipOneChar(key.secret))], { ip: '198.51.100.1', requestId: 'r1' })
      assert.deepEqual(result, { received: 3 })
      const revoked = events.filter((e) => e.action === 'key.leaked_revoked')
      assert.equal(revoked.length, 1)
      assert.equal(revoked[0].orgId, org.orgId)
      assert.deepEqual(revoked[0].target, { type: 'api_key', id: key.id })
      assert.equal(revoked[0].details?.url, finding('').url)
      const received = events.find((e) => e.action === 'key.leak_report_received')
      assert.equal(received?.orgId, null)
      assert.deepEqual(received?.details, { findings: 3, well_formed: 1, revoked: 1 })
      assert.ok(!JSON.stringify(events).includes(key.secret.slice(10)), 'no token in any event')
      // A second report of the same key: already revoked, so no second alert.
      await svc.report([finding(key.secret)], {})
      assert.equal(events.filter((e) => e.action === 'key.leaked_revoked').length, 1)
    })
  })
}



test('a leak that revokes a key raises a high alert and notifies the org by signed webhook and by system mail', async (t) => {
  const hook = await startReceiver(t, [204])
  const h = await buildTestApp({ env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true' } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  await h.seedDomain(org.orgId, 'acme.test')
  const put = await h.http.inject({ method: 'PUT', url: '/v1/alerts/policy', headers: bearer(org.liveKey), payload: { webhookUrl: hook.url, emails: ['security@acme.test'] } })
  assert.equal(put.statusCode, 200, put.body)
  const secret = put.json().webhookSecret
  const leaked = await seedKey(h, { orgId: org.orgId })
  const unrelated = await seedKey(h, { orgId: org.orgId })

  assert.equal((await report(h, [finding(generateKey('live').token), finding(unrelated.secret.slice(0, -1))])).statusCode, 202)
  assert.equal((await report(h, [finding(leaked.secret)])).statusCode, 202)

  const alert = await eventually('the alert row', async () => h.db.selectFrom('monitoring_alerts').selectAll().where('org_id', '=', org.orgId).where('rule', '=', 'key_leaked').executeTakeFirst())
  assert.equal(alert.severity, 'high')
  assert.deepEqual([alert.subject_type, alert.subject_id], ['key', leaked.id])
  assert.equal(JSON.parse(alert.evidence).url, 'https://github.com/acme/app/blob/main/.env')
  const delivery = await eventually('the webhook', async () => hook.got[0])
  assert.equal(verifyWebhook(secret, delivery.headers, delivery.body, Math.floor(h.clock.now().getTime() / 1000)), true)
  const payload = JSON.parse(delivery.body)
  assert.deepEqual([payload.alert.rule, payload.alert.severity, payload.alert.orgId], ['key_leaked', 'high', org.orgId])
  const mail = await eventually('the alert email', async () => h.db.selectFrom('system_mail').selectAll().where('kind', '=', 'alert').executeTakeFirst())
  assert.deepEqual([mail.org_id, mail.outcome], [org.orgId, 'queued'])
  const msg = await h.db.selectFrom('messages').select(['org_id', 'credential_id', 'status']).where('id', '=', mail.message_id!).executeTakeFirstOrThrow()
  assert.deepEqual(msg, { org_id: org.orgId, credential_id: 'system-mail', status: 'queued' })
  // Exactly one alert and one webhook: the unknown and malformed tokens raised nothing.
  assert.equal((await h.db.selectFrom('monitoring_alerts').select('id').execute()).length, 1)
  assert.equal(hook.got.length, 1)
})
