import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { isScope } from '../../src/access/scopes.ts'
import { generateKey } from '../../src/keys/format.ts'
import { isV1, label, probe, routesOf } from './every-route.shared.ts'

/**
 * The only /v1 routes anyone may call without credentials. Adding one is a security decision: add it
 * here with the reason, in the same change, so review sees it.
 */
const PUBLIC_V1: Record<string, string> = {
  'POST /v1/keys/leaked': 'secret-scanning partner reports: revokes leaked keys, reveals nothing',
  'GET /v1/unsubscribe/:token': 'recipients unsubscribe from a link in the email (signed token)',
  'POST /v1/unsubscribe/:token': 'RFC 8058 one-click unsubscribe from mail clients (signed token)',
  'POST /v1/auth/login': 'password sign-in (back-off, lockout, no user enumeration)',
  'POST /v1/auth/verify-email': 'the emailed one-time token is the credential',
  'POST /v1/auth/password-reset': 'a forgotten password: the same 202 whether or not the account exists',
  'POST /v1/auth/password-reset/confirm': 'the emailed single-use, 30-minute token is the credential',
  'POST /v1/invitations/accept': 'the emailed invitation token is the credential',
}

/** Self-service routes (`config.session`) skip the scope check but need a signed-in session (users/). */
const isSessionRoute = (r: { config: { session?: unknown } }) => r.config.session !== undefined

for (const { name, skip } of await testDialects()) {
  test(`${name}: every route declares its access`, { skip }, async (t) => {
    // Many anonymous and bad-key calls from one IP: limits are tested in test/limits/, not here.
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_AUTH_FAILURES_PER_IP: '0', SEALPOST_RATE_LIMIT_PER_IP: '0' } })
    t.after(() => h.close())
    const routes = routesOf(h)
    const org = await h.seedOrg()

    await t.test('the route table is collected and non-trivial', () => {
      assert.ok(routes.some((r) => r.url === '/v1/keys' && r.method === 'POST'))
      assert.ok(routes.length >= 10, `only ${routes.length} routes collected`)
    })

    await t.test('every route declares scopes from the catalogue, or public', () => {
      const undeclared = routes.filter((r) => !r.config.public && !(r.config.scopes && r.config.scopes.length))
      assert.deepEqual(undeclared.map(label), [])
      const unknown = routes.flatMap((r) => (r.config.scopes ?? []).filter((s) => !isScope(s)).map((s) => `${label(r)}: ${s}`))
      assert.deepEqual(unknown, [], 'a scope outside the catalogue is a typo: nobody could ever hold it')
      const both = routes.filter((r) => r.config.public && r.config.scopes?.length)
      assert.deepEqual(both.map(label), [], 'public and scoped at once is ambiguous')
    })

    await t.test('public /v1 routes are exactly the allow-listed ones, each with its own rate limit', () => {
      const publicV1 = routes.filter((r) => isV1(r) && r.config.public && !isSessionRoute(r))
      assert.deepEqual(publicV1.map(label).filter((l) => !(l in PUBLIC_V1)), [], 'a public /v1 route is missing from PUBLIC_V1')
      assert.deepEqual(publicV1.filter((r) => !r.config.rateLimit).map(label), [], 'a public /v1 route needs config.rateLimit')
    })

    await t.test('every protected route answers 401 without credentials and with an unknown key', async () => {
      const unknownKey = generateKey('live').token
      const wrong: string[] = []
      for (const r of routes.filter((x) => !x.config.public)) {
        for (const key of [undefined, unknownKey]) {
          const res = await probe(h, r, { key })
          if (res.statusCode !== 401 || res.json().error.code !== 'unauthenticated') wrong.push(`${label(r)} (${key ? 'unknown key' : 'anonymous'}): ${res.statusCode}`)
        }
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('session-only routes answer 401 without a session, and to an API key', async () => {
      const wrong: string[] = []
      for (const r of routes.filter(isSessionRoute)) {
        for (const key of [undefined, org.liveKey]) {
          const res = await probe(h, r, { key })
          if (res.statusCode !== 401) wrong.push(`${label(r)} (${key ? 'API key' : 'anonymous'}): ${res.statusCode}`)
        }
      }
      assert.deepEqual(wrong, [])
    })

    await t.test('every route refuses a key in the query string with 400 and does not echo it', async () => {
      const wrong: string[] = []
      for (const r of routes) {
        const res = await probe(h, r, { key: org.liveKey, query: `api_key=${org.liveKey}` })
        if (res.statusCode !== 400 || res.json().error.code !== 'key_in_query' || res.body.includes(org.liveKey)) wrong.push(`${label(r)}: ${res.statusCode}`)
      }
      assert.deepEqual(wrong, [])
    })
  })
}
