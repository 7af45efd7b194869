import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { parseKey } from '../../src/keys/format.ts'
import { eventually } from '../helpers/eventually.ts'

const ATTACKER = '198.51.100.23'
const send = (h: TestApp, key: string, method: string, url: string, payload?: unknown, ip = ATTACKER) =>
  h.http.inject({ method: method as any, url, headers: bearer(key), remoteAddress: ip, ...(payload ? { payload: payload as any } : {}) })


for (const { name, skip } of await testDialects()) {
  test(`${name}: canary keys`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    const other = await h.seedOrg('Other')
    await h.seedDomain(org.orgId, 'acme.test')
    const created = await send(h, org.liveKey, 'POST', '/v1/canary-keys', { name: 'ci-deploy-key' }, '192.0.2.10')
    assert.equal(created.statusCode, 201, created.body)
    const canary = created.json()
    const real = await send(h, org.liveKey, 'POST', '/v1/keys', { name: 'narrow', scopes: ['contacts:read'], environment: 'live' }, '192.0.2.10')
    assert.equal(real.statusCode, 201, real.body)
    const narrow = real.json().secret as string

    await t.test('a canary has the format of a live key', () => {
      assert.ok(parseKey(canary.secret), 'passes the offline checksum')
      assert.equal(canary.secret.length, narrow.length)
      assert.equal(canary.secret.slice(0, 8), narrow.slice(0, 8))
    })

    await t.test('listed apart: in /v1/canary-keys, never in /v1/keys, and invisible to another org', async () => {
      const keys = (await send(h, org.liveKey, 'GET', '/v1/keys', undefined, '192.0.2.10')).json().data.map((k: any) => k.id)
      assert.ok(!keys.includes(canary.id))
      assert.ok(keys.includes(org.liveKeyId))
      assert.deepEqual((await send(h, org.liveKey, 'GET', '/v1/canary-keys', undefined, '192.0.2.10')).json().data.map((k: any) => [k.id, k.kind]), [[canary.id, 'canary']])
      assert.deepEqual((await send(h, other.liveKey, 'GET', '/v1/canary-keys', undefined, '192.0.2.10')).json().data, [])
      assert.equal((await send(h, other.liveKey, 'DELETE', `/v1/canary-keys/${canary.id}`, undefined, '192.0.2.10')).statusCode, 404)
    })

    await t.test('it can never send or read, and answers exactly like a valid key without the scope', async () => {
      const cases: [string, string, unknown?][] = [
        ['POST', '/v1/messages', { from: 'a@acme.test', to: 'b@example.com', subject: 's', text: 't' }],
        ['GET', '/v1/messages'],
        ['GET', '/v1/keys'],
        ['GET', '/v1/canary-keys'],
      ]
      for (const [method, url, body] of cases) {
        const c = await send(h, canary.secret, method, url, body)
        const n = await send(h, narrow, method, url, body, '192.0.2.11')
        assert.equal(c.statusCode, 403, `${method} ${url}`)
        assert.equal(c.body, n.body, `${method} ${url}: the same answer as a real key lacking the scope`)
      }
      // Every non-public route declares a scope (the boot refuses others), so a scope-less key passes none.
      for (const r of h.http.routeTable.filter((x) => !x.config.public)) assert.ok((r.config.scopes ?? []).length > 0, `${r.method} ${r.url}`)
      assert.equal((await h.db.selectFrom('messages').select('id').execute()).length, 0)
    })

    await t.test('its use raises a critical alert with the source IP and blocks that IP for the org', async () => {
      const alert = await eventually('the canary alert', () => h.db.selectFrom('monitoring_alerts').selectAll().where('rule', '=', 'canary_key_used').executeTakeFirst())
      assert.equal(alert.org_id, org.orgId)
      assert.equal(alert.severity, 'critical')
      assert.equal(JSON.parse(alert.evidence).ip, ATTACKER)
      assert.equal(JSON.parse(alert.evidence).keyId, canary.id)
      const block = await eventually('the IP block', () => h.db.selectFrom('monitoring_ip_blocks').selectAll().where('ip', '=', ATTACKER).executeTakeFirst())
      assert.deepEqual([block.org_id, block.reason], [org.orgId, 'canary_key_used'])
      // The org's real key from the attacker's address is refused now; from elsewhere it still works.
      const blocked = await send(h, org.liveKey, 'GET', '/v1/keys')
      assert.equal(blocked.statusCode, 403)
      assert.equal(blocked.json().error.code, 'ip_blocked')
      assert.equal((await send(h, org.liveKey, 'GET', '/v1/keys', undefined, '192.0.2.10')).statusCode, 200)
      // No other key's use raised a canary alert.
      assert.equal((await h.db.selectFrom('monitoring_alerts').select('id').where('rule', '=', 'canary_key_used').execute()).length, 1)
    })

    await t.test('a retired canary is revoked and no longer listed', async () => {
      assert.equal((await send(h, org.liveKey, 'DELETE', `/v1/canary-keys/${canary.id}`, undefined, '192.0.2.10')).statusCode, 204)
      assert.deepEqual((await send(h, org.liveKey, 'GET', '/v1/canary-keys', undefined, '192.0.2.10')).json().data, [])
    })
  })
}
