import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'
import { RULE_NAMES } from '../../src/monitoring/rules.ts'
import { addUser, buildUsersApp, enrolTotp, totpAt, browser, PASSWORD } from '../users/helpers.ts'

const MINUTE = 60_000

/**
 * Issue 13, finding 6: with a second factor older than 5 minutes a session could still create an
 * all-scopes OAuth client (and mint a key through it), rotate client secrets, set audit retention to
 * 1 day, empty the automatic-response policy, and read every audit event and contact through the list
 * routes although the export routes demanded step-up. Now the routes declare `stepUp: true` and the
 * authorize step refuses before the handler; with a fresh factor the same calls succeed.
 */
for (const { name, skip } of await testDialects()) {
  test(`${name}: finding 6, a stale second factor cannot mint credentials, weaken policies or bulk-read`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const owner = await addUser(h, org.orgId, 'owner')
    const key = (method: string, url: string, payload?: object) => h.http.inject({ method: method as never, url, headers: bearer(org.liveKey), ...(payload ? { payload } : {}) })

    // A client made earlier, whose secret the session will try to rotate.
    const existing = (await key('POST', '/v1/oauth/clients', { name: 'billing sync', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:read'] })).json()
    assert.ok(existing.client_secret)
    assert.equal((await key('POST', '/v1/contacts', { email: 'jane@example.com', first_name: 'Jane' })).statusCode, 201)
    const retentionBefore = (await key('GET', '/v1/audit/retention')).json()
    const policyBefore = (await key('GET', '/v1/alerts/policy')).json()

    const b = browser(h)
    assert.equal((await b.send('POST', '/v1/auth/login', { email: owner.email, password: PASSWORD })).statusCode, 200)
    const { secret } = await enrolTotp(h, b)
    const emptyPolicy = { rules: Object.fromEntries(RULE_NAMES.map((r) => [r, { actions: [] }])), emails: [], webhookUrl: null }
    const attempts: [string, string, object | undefined][] = [
      ['POST', '/v1/oauth/clients', { name: 'everything', kind: 'confidential', grant_types: ['client_credentials'], scopes: [...ALL_SCOPES] }],
      ['POST', `/v1/oauth/clients/${existing.id}/secret`, {}],
      ['POST', '/v1/keys', { name: 'minted', environment: 'live', scopes: [...ALL_SCOPES] }],
      ['PUT', '/v1/audit/retention', { days: 1 }],
      ['PUT', '/v1/alerts/policy', emptyPolicy],
      ['GET', '/v1/audit-events', undefined],
      ['GET', '/v1/contacts', undefined],
    ]

    await t.test('6 minutes after the factor: every one is 403 step_up_required, and nothing changed', async () => {
      h.clock.advance(6 * MINUTE)
      for (const [method, url, body] of attempts) {
        const r = await b.send(method, url, body)
        assert.equal(r.statusCode, 403, `${method} ${url}: ${r.body}`)
        assert.equal(r.json().error.code, 'step_up_required', `${method} ${url}`)
        assert.doesNotMatch(r.body, /jane|client_secret|sp_live_/i)
      }
      const clients = (await key('GET', '/v1/oauth/clients')).json().data
      assert.deepEqual(clients.map((c: { name: string }) => c.name), ['billing sync'], 'no client was created')
      assert.equal(clients[0].secret_last4, existing.secret_last4, 'the secret was not rotated')
      const keys = (await key('GET', '/v1/keys')).json().data
      assert.ok(!keys.some((k: { name: string }) => k.name === 'minted'), 'no key was minted')
      assert.deepEqual((await key('GET', '/v1/audit/retention')).json(), retentionBefore)
      assert.deepEqual((await key('GET', '/v1/alerts/policy')).json(), policyBefore)
    })

    await t.test('after a fresh second factor the same calls succeed', async () => {
      const v = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, secret) })
      assert.equal(v.statusCode, 200, v.body)
      const expected = [201, 200, 201, 200, 200, 200, 200]
      for (const [i, [method, url, body]] of attempts.entries()) {
        const r = await b.send(method, url, body)
        assert.equal(r.statusCode, expected[i], `${method} ${url}: ${r.body.slice(0, 200)}`)
      }
      assert.equal((await key('GET', '/v1/audit/retention')).json().days, 1)
    })
  })
}
