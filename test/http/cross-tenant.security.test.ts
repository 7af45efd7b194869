import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { buildTestApp, bearer, type SeededOrg, type TestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { newId } from '../../src/core/ids.ts'
import { seedKey } from '../keys/helpers.ts'
import { fillPath, isV1, label, probe, routesOf } from './every-route.shared.ts'

/**
 * Tenant isolation (no BOLA), table-driven: one row per object type. For each, an object is created in
 * org A, then org B (holding every scope) calls every route under `prefix` that takes an id with A's
 * id: each must be 404, byte for byte the answer for an id that does not exist, and A's object must be
 * unchanged afterwards. `list`, when given, must not show A's object to B.
 * A new route with an id in its path fails the coverage check until its type has a row here.
 */
interface ObjectType {
  type: string
  /** Routes under this prefix with a path parameter act on one object of this type. */
  prefix?: string
  list?: string
  /** A valid body for routes whose schema refuses `{}` (keyed `METHOD /path`), so the call reaches the lookup. */
  bodies?: Record<string, object>
  /** Creates one object in `org`, returns its id. */
  create(h: TestApp, org: SeededOrg): Promise<string>
}

const unique = () => randomBytes(4).toString('hex')
const json = async (res: Promise<{ statusCode: number; body: string; json(): any }>, expect: number) => {
  const r = await res
  assert.equal(r.statusCode, expect, r.body)
  return r.json()
}
const as = (h: TestApp, key: string, method: string, url: string, payload?: object) =>
  h.http.inject({ method: method as any, url, headers: bearer(key), ...(payload ? { payload } : {}) })

const OBJECT_TYPES: ObjectType[] = [
  { type: 'api key', prefix: '/v1/keys/', list: '/v1/keys', create: async (h, org) => (await seedKey(h, { orgId: org.orgId })).id },
  { type: 'domain', prefix: '/v1/domains/', list: '/v1/domains', create: async (h, org) => (await h.seedDomain(org.orgId, `a${unique()}.test`)).id },
  {
    type: 'message', prefix: '/v1/messages/', list: '/v1/messages',
    create: async (h, org) => {
      const domain = `m${unique()}.test`
      await h.seedDomain(org.orgId, domain)
      return (await json(as(h, org.liveKey, 'POST', '/v1/messages', { from: `a@${domain}`, to: ['bob@example.com'], subject: 'hi', text: 'hi' }), 202)).id
    },
  },
  {
    type: 'suppression', prefix: '/v1/suppressions/', list: '/v1/suppressions',
    create: async (h, org) => {
      await json(as(h, org.liveKey, 'POST', '/v1/suppressions', { address: `s${unique()}@example.com` }), 201)
      return (await json(as(h, org.liveKey, 'GET', '/v1/suppressions'), 200)).data[0].id
    },
  },
  {
    type: 'oauth client', prefix: '/v1/oauth/clients/', list: '/v1/oauth/clients',
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/oauth/clients', { name: `c ${unique()}`, kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] }), 201)).id,
  },
  {
    type: 'contact', prefix: '/v1/contacts/', list: '/v1/contacts', bodies: { 'PATCH /v1/contacts/:id': { first_name: 'Mallory' } },
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/contacts', { email: `c${unique()}@example.com` }), 201)).id,
  },
  {
    type: 'custom role', prefix: '/v1/roles/', list: '/v1/roles', bodies: { 'PATCH /v1/roles/:id': { description: 'renamed by another org' } },
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/roles', { name: `r${unique()}`, scopes: ['messages:read'] }), 201)).id,
  },
  {
    type: 'invitation', prefix: '/v1/invitations/', list: '/v1/invitations',
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/invitations', { email: `i${unique()}@example.com`, role: 'analyst' }), 201)).id,
  },
  {
    type: 'member', prefix: '/v1/members/', list: '/v1/members', bodies: { 'PATCH /v1/members/:userId': { role: 'support' } },
    create: async (h, org) => (await h.app.users.accounts.createOwner(org.orgId, `m${unique()}@example.com`)).userId,
  },
  {
    type: 'audit event', list: '/v1/audit-events',
    create: async (h, org) => {
      await json(as(h, org.liveKey, 'POST', '/v1/keys', { name: `audited ${unique()}`, scopes: ['messages:read'], environment: 'live' }), 201)
      await h.app.audit.writer.flush()
      return (await json(as(h, org.liveKey, 'GET', '/v1/audit-events?action=key.created'), 200)).data[0].id
    },
  },
  {
    type: 'security alert', prefix: '/v1/alerts/', list: '/v1/alerts',
    create: async (h, org) => (await h.app.monitoring.alerts.raise({
      rule: 'bounce_rate_spike', severity: 'high', orgId: org.orgId, subject: { type: 'org', id: org.orgId },
      summary: 'test', evidence: { rate: 0.5 }, at: h.clock.now().getTime(),
    })).id,
  },
  {
    type: 'ip block', prefix: '/v1/ip-blocks/', list: '/v1/ip-blocks',
    create: async (h, org) => {
      const ip = `192.0.2.${1 + (randomBytes(1)[0] % 250)}`
      await h.app.monitoring.alerts.raise({
        rule: 'key_compromise_suspected', severity: 'critical', orgId: org.orgId, subject: { type: 'org', id: org.orgId },
        summary: 'test', evidence: {}, ip, keyId: null, at: h.clock.now().getTime(),
      })
      return (await json(as(h, org.liveKey, 'GET', '/v1/ip-blocks'), 200)).data.find((b: any) => b.ip === ip).id
    },
  },
  {
    type: 'canary key', prefix: '/v1/canary-keys/', list: '/v1/canary-keys',
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/canary-keys', { name: `decoy ${unique()}` }), 201)).id,
  },
  {
    type: 'webhook', prefix: '/v1/webhooks/', list: '/v1/webhooks', bodies: { 'PATCH /v1/webhooks/:id': { enabled: false } },
    // A public address literal: passes the SSRF guard without DNS, and nothing is ever sent to it here.
    create: async (h, org) => (await json(as(h, org.liveKey, 'POST', '/v1/webhooks', { url: `https://93.184.216.34/${unique()}` }), 201)).id,
  },
]

/** An id of the same shape (prefix) that no organization owns. */
const absentLike = (id: string) => newId(id.slice(0, id.indexOf('_')))

for (const { name, skip } of await testDialects()) {
  test(`${name}: cross-organization access returns 404 for every object type`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const a = await h.seedOrg('Alpha')
    const b = await h.seedOrg('Bravo')
    const routes = routesOf(h).filter((r) => isV1(r) && !r.config.public)

    await t.test('every /v1 route that takes an id belongs to a listed object type', () => {
      const uncovered = routes.filter((r) => r.url.includes(':') && !OBJECT_TYPES.some((o) => o.prefix && r.url.startsWith(o.prefix)))
      assert.deepEqual(uncovered.map(label), [], 'add a row to OBJECT_TYPES in test/http/cross-tenant.security.test.ts')
    })

    for (const o of OBJECT_TYPES) {
      const present = routes.some((r) => (o.prefix && r.url.startsWith(o.prefix)) || r.url === o.list)
      await t.test(o.type, { skip: present ? false : 'this build has no routes for it' }, async () => {
        const id = await o.create(h, a)
        const byId = o.prefix ? routes.filter((r) => r.url.startsWith(o.prefix!) && r.url.includes(':')) : []
        const getRoute = byId.find((r) => r.method === 'GET' && r.url === `${o.prefix}:id`)
        const before = getRoute ? await json(as(h, a.liveKey, 'GET', `${o.prefix}${id}`), 200) : null

        for (const route of byId) {
          const payload = o.bodies?.[label(route)]
          const foreign = await probe(h, route, { key: b.liveKey, path: fillPath(route.url, id), payload })
          const missing = await probe(h, route, { key: b.liveKey, path: fillPath(route.url, absentLike(id)), payload })
          assert.equal(foreign.statusCode, 404, `${label(route)} with another org's id: ${foreign.body}`)
          assert.equal(foreign.json().error.code, 'not_found')
          assert.equal(foreign.body, missing.body, `${label(route)}: another org's id must look exactly like a missing one`)
        }
        if (before) {
          const after = await json(as(h, a.liveKey, 'GET', `${o.prefix}${id}`), 200)
          assert.deepEqual(after, before, `${o.type} changed by another org's calls`)
        }
        if (o.list) {
          const mine = await as(h, a.liveKey, 'GET', o.list)
          assert.ok(mine.body.includes(id), `${o.list} should list the object for its own org`)
          const theirs = await as(h, b.liveKey, 'GET', o.list)
          assert.equal(theirs.statusCode, 200)
          assert.ok(!theirs.body.includes(id), `${o.list} shows another org's ${o.type}`)
        }
      })
    }
  })
}
