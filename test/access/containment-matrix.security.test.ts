import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer, type TestApp } from '../helpers/harness.ts'
import { addUser, buildUsersApp, enrolTotp, ORIGIN, signIn } from '../users/helpers.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'
import { newId } from '../../src/core/ids.ts'
import { insertCustomRole } from '../../src/users/membership-store.ts'
import type { AccessConditions, Environment } from '../../src/core/principal.ts'
import { conditionsToApi } from '../../src/keys/schema.ts'

/**
 * The containment matrix (issue 13, item 1): every credential route of the route table x every kind of
 * principal x targets inside and outside it. Allowed exactly when the target is contained (scopes ⊆,
 * environment equal, conditions at least as narrow), otherwise 403 with the exact code. A new route under
 * /v1/keys or /v1/oauth/clients fails this test until it is classified below.
 */
type Act = { act: 'create' | 'manage'; kind: 'key' | 'client'; ok: number }
const ROUTES: Record<string, Act | string> = {
  'POST /v1/keys': { act: 'create', kind: 'key', ok: 201 },
  'POST /v1/keys/:id/rotate': { act: 'manage', kind: 'key', ok: 200 },
  'POST /v1/keys/:id/revoke': { act: 'manage', kind: 'key', ok: 200 },
  'POST /v1/keys/:id/reinstate': { act: 'manage', kind: 'key', ok: 200 },
  'POST /v1/oauth/clients': { act: 'create', kind: 'client', ok: 201 },
  'POST /v1/oauth/clients/:id/secret': { act: 'manage', kind: 'client', ok: 200 },
  'DELETE /v1/oauth/clients/:id': { act: 'manage', kind: 'client', ok: 204 },
  // No credential is created, changed or handed out by these:
  'GET /v1/keys': 'read', 'GET /v1/keys/:id': 'read', 'GET /v1/keys/policy': 'read',
  'GET /v1/oauth/clients': 'read', 'GET /v1/oauth/clients/:id': 'read',
  'PUT /v1/keys/policy': 'org policy (org:admin), not a credential',
  'POST /v1/keys/leaked': 'public leak report: revokes a key whose secret is proven public',
}

const NARROW = ['keys:manage', 'oauth:manage', 'messages:read']
const IP_ONLY: AccessConditions = { ipRanges: ['127.0.0.1/32'] }

interface Caller {
  label: string
  scopes: readonly string[]
  environment: Environment
  conditions: AccessConditions | null
  send(method: string, url: string, body?: unknown): Promise<{ statusCode: number; body: string; json(): any }>
}

interface Target { label: string; scopes: string[]; environment: Environment; conditions: AccessConditions | null; expect: number; code?: string; detail?: [string, unknown] }

/** Targets around a caller: the contained one, and one per way of stepping outside it that applies. */
function targetsFor(c: Caller): Target[] {
  const other: Environment = c.environment === 'live' ? 'test' : 'live'
  const out: Target[] = [{ label: 'contained', scopes: ['messages:read'], environment: c.environment, conditions: c.conditions, expect: 0 }]
  if (!c.scopes.includes('messages:send')) out.push({ label: 'wider scopes', scopes: ['messages:read', 'messages:send'], environment: c.environment, conditions: c.conditions, expect: 403, code: 'insufficient_scope', detail: ['scopes', ['messages:send']] })
  out.push({ label: 'other environment', scopes: ['messages:read'], environment: other, conditions: c.conditions, expect: 403, code: 'forbidden', detail: ['environment', other] })
  if (c.conditions?.ipRanges) out.push({ label: 'wider IP ranges', scopes: ['messages:read'], environment: c.environment, conditions: { ipRanges: ['127.0.0.0/8'] }, expect: 403, code: 'forbidden', detail: ['condition', 'ipRanges'] })
  return out
}

async function callers(h: TestApp, orgId: string, liveKey: string, testKey: string): Promise<Caller[]> {
  const viaBearer = (token: string) => (method: string, url: string, body?: unknown) =>
    h.http.inject({ method: method as any, url, headers: bearer(token), ...(body === undefined ? {} : { payload: body as any }) })
  const key = async (scopes: readonly string[], conditions: AccessConditions | null) =>
    (await createKey(h.db, h.app.deps.pepper, h.clock, { orgId, name: 'caller', environment: 'live', scopes, conditions })).secret

  // A session user in a custom role holding NARROW, with a fresh second factor (step-up).
  const at = h.clock.now().getTime()
  const roleId = newId('role', at)
  await insertCustomRole(h.db, { id: roleId, org_id: orgId, name: 'integrator', description: '', scopes: JSON.stringify(NARROW), conditions: null, created_at: at, updated_at: at })
  const user = await addUser(h, orgId, roleId)
  const b = await signIn(h, user.email)
  await enrolTotp(h, b)

  // A client-credentials token of a test-environment client holding NARROW.
  const operator = { orgId, actor: { type: 'system' as const, id: 'test' }, scopes: ALL_SCOPES, environment: 'test' as const }
  const c = await h.app.oauth.clients.create(operator, { name: 'ci', kind: 'confidential', grantTypes: ['client_credentials'], scopes: NARROW })
  const tokenRes = await h.http.inject({
    method: 'POST', url: '/oauth/token',
    headers: { authorization: `Basic ${Buffer.from(`${c.id}:${c.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', scope: NARROW.join(' '), resource: `${ORIGIN}/v1` }).toString(),
  })
  assert.equal(tokenRes.statusCode, 200, tokenRes.body)

  return [
    { label: 'live key', scopes: ALL_SCOPES, environment: 'live', conditions: null, send: viaBearer(liveKey) },
    { label: 'test key', scopes: ALL_SCOPES, environment: 'test', conditions: null, send: viaBearer(testKey) },
    { label: 'narrower-scoped key', scopes: NARROW, environment: 'live', conditions: null, send: viaBearer(await key(NARROW, null)) },
    { label: 'IP-conditioned key', scopes: ALL_SCOPES, environment: 'live', conditions: IP_ONLY, send: viaBearer(await key(ALL_SCOPES, IP_ONLY)) },
    { label: 'session user', scopes: NARROW, environment: 'live', conditions: null, send: (m, u, body) => b.send(m, u, body) },
    { label: 'OAuth token (test client)', scopes: NARROW, environment: 'test', conditions: null, send: viaBearer(tokenRes.json().access_token) },
  ]
}

/** An existing credential shaped like the target, stored directly (nobody's containment involved). */
async function seed(h: TestApp, orgId: string, kind: 'key' | 'client', t: Target): Promise<string> {
  if (kind === 'key') return (await createKey(h.db, h.app.deps.pepper, h.clock, { orgId, name: 'target', environment: t.environment, scopes: t.scopes, conditions: t.conditions })).id
  const operator = { orgId, actor: { type: 'system' as const, id: 'test' }, scopes: ALL_SCOPES, environment: t.environment }
  return (await h.app.oauth.clients.create(operator, { name: 'target', kind: 'confidential', grantTypes: ['client_credentials'], scopes: t.scopes, conditions: t.conditions })).id
}

function createBody(kind: 'key' | 'client', t: Target, caller: Caller) {
  // A contained create leaves conditions out: they must be inherited, not shed.
  const conditions = t.label === 'contained' ? undefined : (t.conditions === caller.conditions ? undefined : conditionsToApi(t.conditions) ?? undefined)
  const common = { name: 'made', scopes: t.scopes, environment: t.environment, ...(conditions ? { conditions } : {}) }
  return kind === 'key' ? common : { ...common, kind: 'confidential', grant_types: ['client_credentials'] }
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: credential containment matrix over the route table`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()

    const found = h.http.routeTable.filter((r) => /^\/v1\/(keys|oauth\/clients)(\/|$)/.test(r.url) && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`)
    await t.test('every credential route is classified, and every classified route exists', () => {
      assert.deepEqual([...found].sort(), Object.keys(ROUTES).sort())
    })
    const acting = Object.entries(ROUTES).filter((e): e is [string, Act] => typeof e[1] !== 'string')
    assert.equal(acting.length, 7)

    const all = await callers(h, org.orgId, org.liveKey, org.testKey)
    for (const caller of all) {
      for (const [route, rule] of acting) {
        const [method, pattern] = route.split(' ')
        for (const target of targetsFor(caller)) {
          await t.test(`${caller.label} → ${route} on a ${target.label} ${rule.kind}`, async () => {
            const url = rule.act === 'create' ? pattern : pattern.replace(':id', await seed(h, org.orgId, rule.kind, target))
            const r = await caller.send(method, url, rule.act === 'create' ? createBody(rule.kind, target, caller) : undefined)
            if (target.expect === 0) {
              assert.equal(r.statusCode, rule.ok, r.body)
              if (rule.act === 'create') {
                const made = rule.kind === 'key' ? r.json().key : r.json()
                assert.equal(made.environment, caller.environment)
                assert.deepEqual(made.conditions, conditionsToApi(caller.conditions), 'conditions are inherited from the creator')
              }
              return
            }
            assert.equal(r.statusCode, 403, r.body)
            const err = r.json().error
            assert.equal(err.code, target.code)
            assert.deepEqual(err.details[target.detail![0]], target.detail![1])
          })
        }
      }
    }
  })
}
