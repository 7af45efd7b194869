import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { bearer, buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { installPipeline } from '../../src/http/pipeline.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'
import { addUser, buildUsersApp, enrolTotp, totpAt, browser } from '../users/helpers.ts'
import { isV1, label, probe, routesOf, fillPath, type TableRoute } from '../http/every-route.shared.ts'

const MINUTE = 60_000

/**
 * The sandbox rule and the step-up flag of EVERY /v1 route, decided one by one (http/types.ts explains
 * the rules). A new route fails this test until its line is added here: adding it is the decision.
 *   any        nothing environment-bound       sealed     the service confines test principals to test objects
 *   shared     test principals may read         live-only  test principals refused before the handler
 */
const RULES: Record<string, ['any' | 'sealed' | 'shared' | 'live-only', 'step-up' | '']> = {
  'POST /v1/auth/login': ['any', ''],
  'GET /v1/auth/session': ['any', ''],
  'POST /v1/auth/mfa/totp': ['any', ''],
  'POST /v1/auth/mfa/recovery': ['any', ''],
  'POST /v1/auth/mfa/webauthn/options': ['any', ''],
  'POST /v1/auth/mfa/webauthn': ['any', ''],
  'POST /v1/auth/session/org': ['any', ''],
  'POST /v1/auth/logout': ['any', ''],
  'POST /v1/auth/verify-email/send': ['any', ''],
  'POST /v1/auth/verify-email': ['any', ''],
  'GET /v1/users/me': ['any', ''],
  'PATCH /v1/users/me': ['any', ''],
  'POST /v1/users/me/password': ['any', ''],
  'GET /v1/users/me/mfa': ['any', ''],
  'POST /v1/users/me/mfa/totp': ['any', ''],
  'POST /v1/users/me/mfa/totp/confirm': ['any', ''],
  'DELETE /v1/users/me/mfa/totp': ['any', ''],
  'POST /v1/users/me/passkeys/options': ['any', ''],
  'POST /v1/users/me/passkeys': ['any', ''],
  'DELETE /v1/users/me/passkeys/:id': ['any', ''],
  'POST /v1/users/me/recovery-codes': ['any', ''],
  'GET /v1/sessions': ['any', ''],
  'DELETE /v1/sessions/:id': ['any', ''],
  'POST /v1/sessions/revoke-all': ['any', ''],
  'GET /v1/members': ['live-only', ''],
  'PATCH /v1/members/:userId': ['live-only', 'step-up'],
  'DELETE /v1/members/:userId': ['live-only', 'step-up'],
  'GET /v1/invitations': ['live-only', ''],
  'POST /v1/invitations': ['live-only', 'step-up'],
  'DELETE /v1/invitations/:id': ['live-only', ''],
  'POST /v1/invitations/accept': ['any', ''],
  'GET /v1/roles': ['live-only', ''],
  'POST /v1/roles': ['live-only', 'step-up'],
  'PATCH /v1/roles/:id': ['live-only', 'step-up'],
  'DELETE /v1/roles/:id': ['live-only', 'step-up'],
  'GET /v1/auth/policy': ['live-only', ''],
  'PUT /v1/auth/policy': ['live-only', 'step-up'],
  'POST /v1/keys': ['sealed', 'step-up'],
  'POST /v1/canary-keys': ['live-only', 'step-up'],
  'GET /v1/canary-keys': ['live-only', ''],
  'DELETE /v1/canary-keys/:id': ['live-only', 'step-up'],
  'POST /v1/auth/password-reset': ['any', ''],
  'POST /v1/auth/password-reset/confirm': ['any', ''],
  'GET /v1/system-mail': ['live-only', ''],
  'GET /v1/keys': ['sealed', ''],
  'GET /v1/keys/policy': ['shared', ''],
  'PUT /v1/keys/policy': ['live-only', 'step-up'],
  'GET /v1/keys/:id': ['sealed', ''],
  'POST /v1/keys/:id/rotate': ['sealed', 'step-up'],
  'POST /v1/keys/:id/revoke': ['sealed', ''],
  'POST /v1/keys/:id/reinstate': ['sealed', 'step-up'],
  'POST /v1/keys/leaked': ['any', ''],
  'POST /v1/domains': ['live-only', ''],
  'GET /v1/domains': ['shared', ''],
  'GET /v1/domains/:id': ['shared', ''],
  'POST /v1/domains/:id/verify': ['live-only', ''],
  'DELETE /v1/domains/:id': ['live-only', ''],
  'POST /v1/messages': ['sealed', ''],
  'POST /v1/messages/batch': ['sealed', ''],
  'GET /v1/messages': ['sealed', ''],
  'GET /v1/messages/:id': ['sealed', ''],
  'POST /v1/contacts': ['sealed', ''],
  'GET /v1/contacts': ['sealed', 'step-up'],
  'GET /v1/contacts/:id': ['sealed', ''],
  'PATCH /v1/contacts/:id': ['sealed', ''],
  'DELETE /v1/contacts/:id': ['sealed', ''],
  'GET /v1/contacts/:id/export': ['sealed', 'step-up'],
  'GET /v1/unsubscribe/:token': ['any', ''],
  'POST /v1/unsubscribe/:token': ['any', ''],
  'GET /v1/suppressions': ['sealed', ''],
  'POST /v1/suppressions': ['sealed', ''],
  'DELETE /v1/suppressions/:id': ['sealed', ''],
  'GET /v1/audit-events': ['live-only', 'step-up'],
  'GET /v1/audit-events/export': ['live-only', 'step-up'],
  'GET /v1/audit/retention': ['live-only', ''],
  'PUT /v1/audit/retention': ['live-only', 'step-up'],
  'GET /v1/alerts': ['live-only', ''],
  'GET /v1/alerts/policy': ['live-only', ''],
  'PUT /v1/alerts/policy': ['live-only', 'step-up'],
  'GET /v1/alerts/:id': ['live-only', ''],
  'POST /v1/alerts/:id/acknowledge': ['live-only', ''],
  'POST /v1/alerts/:id/resolve': ['live-only', ''],
  'GET /v1/ip-blocks': ['live-only', ''],
  'DELETE /v1/ip-blocks/:id': ['live-only', 'step-up'],
  'POST /v1/webhooks': ['sealed', ''],
  'GET /v1/webhooks': ['sealed', ''],
  'GET /v1/webhooks/:id': ['sealed', ''],
  'PATCH /v1/webhooks/:id': ['sealed', ''],
  'DELETE /v1/webhooks/:id': ['sealed', ''],
  'POST /v1/webhooks/:id/rotate-secret': ['sealed', ''],
  'GET /v1/webhooks/:id/deliveries': ['sealed', ''],
  'POST /v1/oauth/clients': ['sealed', 'step-up'],
  'GET /v1/oauth/clients': ['sealed', ''],
  'GET /v1/oauth/clients/:id': ['sealed', ''],
  'DELETE /v1/oauth/clients/:id': ['sealed', ''],
  'POST /v1/oauth/clients/:id/secret': ['sealed', 'step-up'],
}

const isSessionRoute = (r: TableRoute) => r.config.session !== undefined
const rule = (r: TableRoute) => r.config.environment
const stepUp = (r: TableRoute) => r.config.stepUp === true

test('boot fails when a /v1 route declares no environment rule (or an unknown one)', async () => {
  for (const config of [{ scopes: ['messages:read'] }, { scopes: ['messages:read'], environment: 'sometimes' }, { public: true }]) {
    const app = Fastify()
    installPipeline(app, { authenticate: async () => {}, authorize: async () => {} })
    assert.throws(() => app.get('/v1/thing', { config: config as never }, async () => ({})), /must declare config\.environment/, JSON.stringify(config))
    await app.close()
  }
  const ok = Fastify()
  installPipeline(ok, { authenticate: async () => {}, authorize: async () => {} })
  ok.get('/v1/thing', { config: { scopes: ['messages:read'], environment: 'sealed' } }, async () => ({}))
  ok.get('/healthz', { config: { public: true } }, async () => ({})) // outside /v1: no sandbox rule needed
  await ok.ready()
  await ok.close()
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: every /v1 route's environment rule and step-up flag, walked over the route table`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const routes = routesOf(h).filter(isV1)

    await t.test('the table above is exactly the app\'s /v1 routes, rule for rule', () => {
      const actual = Object.fromEntries(routes.map((r) => [label(r), [rule(r), stepUp(r) ? 'step-up' : '']]))
      assert.deepEqual(actual, RULES)
    })

    await t.test('step-up is only ever declared on routes that act for a principal (never public ones)', () => {
      assert.deepEqual(routes.filter((r) => stepUp(r) && r.config.public).map(label), [])
    })

    const org = await h.seedOrg()
    const owner = await addUser(h, org.orgId, 'owner')
    const b = browser(h)
    assert.equal((await b.send('POST', '/v1/auth/login', { email: owner.email, password: 'correct horse battery staple 42' })).statusCode, 200)
    const { secret } = await enrolTotp(h, b)
    const call = (r: TableRoute) => b.send(r.method, fillPath(r.url), ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined)

    await t.test('a session whose second factor is 6 minutes old gets 403 step_up_required on every step-up route, and only there', async () => {
      h.clock.advance(6 * MINUTE)
      const wrong: string[] = []
      for (const r of routes) {
        if (isSessionRoute(r) || r.config.public) continue
        const res = await call(r)
        const code = res.statusCode === 403 ? res.json().error.code : null
        if (stepUp(r) && code !== 'step_up_required') wrong.push(`${label(r)} should be step_up_required, got ${res.statusCode} ${res.body.slice(0, 100)}`)
        if (!stepUp(r) && code === 'step_up_required') wrong.push(`${label(r)} asks for step-up but does not declare it`)
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('after a fresh second factor no step-up route refuses for that reason', async () => {
      const v = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, secret) })
      assert.equal(v.statusCode, 200, v.body)
      const wrong: string[] = []
      for (const r of routes.filter(stepUp)) {
        const res = await call(r)
        if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) wrong.push(`${label(r)}: ${res.statusCode} ${res.body.slice(0, 100)}`)
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('API keys are exempt from step-up by design (no person to re-authenticate)', async () => {
      h.clock.advance(60 * MINUTE)
      const wrong: string[] = []
      for (const r of routes.filter(stepUp)) {
        const res = await probe(h, r, { key: org.liveKey })
        if (res.statusCode === 403 && res.json().error.code === 'step_up_required') wrong.push(label(r))
      }
      assert.deepEqual(wrong, [])
    })
  })

  test(`${name}: a test key against every /v1 route holding live objects`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true' } })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const live = (method: string, url: string, payload?: object) => h.http.inject({ method: method as never, url, headers: bearer(org.liveKey), ...(payload ? { payload } : {}) })

    // One live object of every kind the API names by id.
    const domain = await h.seedDomain(org.orgId, 'acme.test')
    const victimKey = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'live victim', environment: 'live', scopes: ALL_SCOPES })
    const message = (await live('POST', '/v1/messages', { from: 'billing@acme.test', to: 'jane@example.com', subject: 'Live invoice 4711', text: 'Hi' })).json()
    const contact = (await live('POST', '/v1/contacts', { email: 'jane@example.com', first_name: 'Jane' })).json()
    assert.equal((await live('POST', '/v1/suppressions', { address: 'gone@example.com' })).statusCode, 201)
    const suppression = (await live('GET', '/v1/suppressions')).json().data[0]
    const webhook = (await live('POST', '/v1/webhooks', { url: 'http://127.0.0.1:59999/live-hook' })).json()
    const client = (await live('POST', '/v1/oauth/clients', { name: 'live client', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })).json()
    const ids: Record<string, string> = {
      '/v1/keys/': victimKey.id, '/v1/domains/': domain.id, '/v1/messages/': message.id, '/v1/contacts/': contact.id,
      '/v1/suppressions/': suppression.id, '/v1/webhooks/': webhook.id, '/v1/oauth/clients/': client.id,
    }
    for (const [k, v] of Object.entries(ids)) assert.ok(v, `live object for ${k}`)
    const liveIdFor = (url: string) => Object.entries(ids).find(([prefix]) => url.startsWith(prefix))?.[1]
    // Bodies that pass schema validation, so the refusal is the sandbox rule and not a 400.
    const bodies: Record<string, object> = {
      'PATCH /v1/contacts/:id': { first_name: 'Mallory' },
      'PATCH /v1/webhooks/:id': { description: 'taken over' },
    }
    // Credential changes are refused by containment (a test credential never manages a live one).
    const containment = new Set(['POST /v1/keys/:id/rotate', 'POST /v1/keys/:id/revoke', 'POST /v1/keys/:id/reinstate', 'DELETE /v1/oauth/clients/:id', 'POST /v1/oauth/clients/:id/secret'])
    const routes = routesOf(h).filter((r) => isV1(r) && !r.config.public)

    await t.test('live-only routes refuse the test key before the handler: 403 environment_denied', async () => {
      const wrong: string[] = []
      for (const r of routes.filter((x) => rule(x) === 'live-only')) {
        const id = liveIdFor(r.url)
        const res = await probe(h, r, { key: org.testKey, ...(id ? { path: fillPath(r.url, id) } : {}) })
        if (res.statusCode !== 403 || res.json().error.code !== 'environment_denied') wrong.push(`${label(r)}: ${res.statusCode} ${res.body.slice(0, 100)}`)
      }
      assert.deepEqual(wrong, [])
      // The live key is not refused by that rule.
      const ok = await live('GET', '/v1/audit/retention')
      assert.equal(ok.statusCode, 200)
    })

    await t.test('sealed routes naming a live object: 404 as if it did not exist (credentials: 403 by containment)', async () => {
      const wrong: string[] = []
      const sealedById = routes.filter((x) => rule(x) === 'sealed' && x.url.includes(':'))
      assert.ok(sealedById.length >= 18, `only ${sealedById.length} sealed routes by id`)
      for (const r of sealedById) {
        const id = liveIdFor(r.url)
        if (!id) { wrong.push(`${label(r)}: no live object to aim at`); continue }
        const res = await probe(h, r, { key: org.testKey, path: fillPath(r.url, id), payload: bodies[label(r)] ?? {} })
        const want = containment.has(label(r)) ? [403, 'forbidden'] : [404, 'not_found']
        const got = [res.statusCode, res.statusCode >= 400 ? res.json().error.code : null]
        if (got[0] !== want[0] || got[1] !== want[1]) wrong.push(`${label(r)}: want ${want.join(' ')}, got ${res.statusCode} ${res.body.slice(0, 100)}`)
        if (res.body.includes('Live invoice') || res.body.includes('jane@')) wrong.push(`${label(r)}: leaked live content`)
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('sealed lists show the test key none of the live objects', async () => {
      const wrong: string[] = []
      for (const r of routes.filter((x) => rule(x) === 'sealed' && x.method === 'GET' && !x.url.includes(':'))) {
        const res = await probe(h, r, { key: org.testKey })
        if (res.statusCode !== 200) { wrong.push(`${label(r)}: ${res.statusCode} ${res.body.slice(0, 100)}`); continue }
        for (const id of Object.values(ids)) if (res.body.includes(id)) wrong.push(`${label(r)} lists live ${id}`)
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('shared routes let the test key read the domains live mail uses', async () => {
      for (const r of routes.filter((x) => rule(x) === 'shared')) {
        const id = liveIdFor(r.url)
        const res = await probe(h, r, { key: org.testKey, ...(id ? { path: fillPath(r.url, id) } : {}) })
        assert.equal(res.statusCode, 200, `${label(r)}: ${res.body.slice(0, 100)}`)
      }
    })

    await t.test('every sealed create route makes a test object when a test key calls it', async () => {
      const creates: Record<string, { status: number; body: object; environmentOf: (res: { json(): any }) => Promise<string> }> = {
        'POST /v1/keys': { status: 201, body: { name: 'sandbox key', environment: 'test', scopes: ['messages:read'] }, environmentOf: async (r) => r.json().key.environment },
        'POST /v1/messages': { status: 202, body: { from: 'billing@acme.test', to: 'dev@example.com', subject: 'sandbox', text: 'Hi' }, environmentOf: async (r) => (await live('GET', `/v1/messages/${r.json().id}`)).json().environment },
        'POST /v1/messages/batch': { status: 202, body: { messages: [{ from: 'billing@acme.test', to: 'dev@example.com', subject: 'sandbox', text: 'Hi' }] }, environmentOf: async (r) => (await live('GET', `/v1/messages/${r.json().data[0].id}`)).json().environment },
        'POST /v1/contacts': { status: 201, body: { email: 'dev@example.com' }, environmentOf: async (r) => r.json().environment },
        'POST /v1/suppressions': { status: 201, body: { address: 'dev@example.com' }, environmentOf: async () => (await live('GET', '/v1/suppressions')).json().data.find((x: { id: string }) => x.id !== suppression.id).environment },
        'POST /v1/webhooks': { status: 201, body: { url: 'http://127.0.0.1:59999/sandbox-hook' }, environmentOf: async (r) => r.json().environment },
        'POST /v1/oauth/clients': { status: 201, body: { name: 'sandbox client', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] }, environmentOf: async (r) => r.json().environment },
      }
      const sealedCreates = routes.filter((x) => rule(x) === 'sealed' && x.method === 'POST' && !x.url.includes(':')).map(label)
      assert.deepEqual(sealedCreates.sort(), Object.keys(creates).sort(), 'every sealed create route has a case here')
      for (const [route, c] of Object.entries(creates)) {
        const res = await probe(h, { method: 'POST', url: route.slice(5), config: {} }, { key: org.testKey, payload: c.body })
        assert.equal(res.statusCode, c.status, `${route}: ${res.body.slice(0, 150)}`)
        assert.equal(await c.environmentOf(res), 'test', route)
      }
    })

    await t.test('after the whole sweep every live object is intact', async () => {
      assert.equal((await live('GET', `/v1/domains/${domain.id}`)).statusCode, 200)
      const key = (await live('GET', `/v1/keys/${victimKey.id}`)).json()
      assert.equal(key.status, 'active')
      assert.equal((await h.http.inject({ method: 'GET', url: '/v1/messages', headers: bearer(victimKey.secret) })).statusCode, 200, 'the live key was not rotated or revoked')
      assert.equal((await live('GET', `/v1/messages/${message.id}`)).json().subject, 'Live invoice 4711')
      assert.equal((await live('GET', `/v1/contacts/${contact.id}`)).json().first_name, 'Jane')
      assert.ok((await live('GET', '/v1/suppressions')).json().data.some((s: { id: string }) => s.id === suppression.id))
      const hook = (await live('GET', `/v1/webhooks/${webhook.id}`)).json()
      assert.equal(hook.description, null)
      assert.equal(hook.previous_secret_expires_at, null, 'the live secret was not rotated')
      assert.equal((await live('GET', `/v1/oauth/clients/${client.id}`)).statusCode, 200)
    })
  })
}
