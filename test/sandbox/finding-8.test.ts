import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { enabledEndpoints } from '../../src/webhooks/store.ts'

/**
 * Issue 13, finding 8: the default test key deleted a live domain, deleted a suppression (a live send to
 * that unsubscribed address then passed), listed live messages with subjects and deleted a contact; an
 * Idempotency-Key used first with the test key made the live send replay the sandboxed message.
 * (Test sends consuming the live quota: test/limits/send-quota.http.test.ts and quotas.test.ts.)
 */
for (const { name, skip } of await testDialects()) {
  test(`${name}: finding 8, the sandbox is sealed at data level`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_WEBHOOK_ALLOW_PRIVATE: 'true' } })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const domain = await h.seedDomain(org.orgId, 'acme.test')
    const as = (key: string) => (method: string, url: string, payload?: object, headers: Record<string, string> = {}) =>
      h.http.inject({ method: method as never, url, headers: { ...bearer(key), ...headers }, ...(payload ? { payload } : {}) })
    const live = as(org.liveKey)
    const sandbox = as(org.testKey)
    const mail = (to: string, subject = 'Your invoice') => ({ from: 'billing@acme.test', to, subject, text: 'Hi' })

    await t.test('the test key cannot delete (or re-verify) a live domain; it may read it', async () => {
      const del = await sandbox('DELETE', `/v1/domains/${domain.id}`)
      assert.equal(del.statusCode, 403)
      assert.equal(del.json().error.code, 'environment_denied')
      assert.equal((await sandbox('POST', `/v1/domains/${domain.id}/verify`)).json().error.code, 'environment_denied')
      assert.equal((await sandbox('POST', '/v1/domains', { name: 'evil.test' })).json().error.code, 'environment_denied')
      assert.equal((await sandbox('GET', `/v1/domains/${domain.id}`)).statusCode, 200)
      // A live message can still be sent (and signed) from it.
      assert.equal((await live('POST', '/v1/messages', mail('bob@example.com'))).statusCode, 202)
    })

    await t.test('the test key cannot remove a live suppression: the live send stays suppressed', async () => {
      assert.equal((await live('POST', '/v1/suppressions', { address: 'unsubscribed@example.com' })).statusCode, 201)
      const liveSup = (await live('GET', '/v1/suppressions')).json().data.find((s: { environment: string }) => s.environment === 'live')
      assert.ok(liveSup)
      assert.deepEqual((await sandbox('GET', '/v1/suppressions')).json().data, [], 'the test key does not even see it')
      const del = await sandbox('DELETE', `/v1/suppressions/${liveSup.id}`)
      assert.equal(del.statusCode, 404)
      const sent = await live('POST', '/v1/messages', mail('unsubscribed@example.com'))
      assert.equal(sent.statusCode, 202)
      assert.equal(sent.json().status, 'suppressed', 'the live send honours the live suppression')
      // A test send honours live suppressions too: the sandbox shows what live would do.
      assert.equal((await sandbox('POST', '/v1/messages', mail('unsubscribed@example.com'))).json().status, 'suppressed')
    })

    await t.test('a suppression added by the test key is a sandbox one: it never blocks live mail', async () => {
      assert.equal((await sandbox('POST', '/v1/suppressions', { address: 'sandbox-only@example.com' })).statusCode, 201)
      const mine = (await sandbox('GET', '/v1/suppressions')).json().data
      assert.deepEqual(mine.map((s: { environment: string }) => s.environment), ['test'])
      assert.equal((await sandbox('POST', '/v1/messages', mail('sandbox-only@example.com'))).json().status, 'suppressed')
      assert.equal((await live('POST', '/v1/messages', mail('sandbox-only@example.com'))).json().status, 'queued')
      // The same address may then be suppressed live as well (uniqueness is per environment).
      assert.equal((await live('POST', '/v1/suppressions', { address: 'sandbox-only@example.com' })).statusCode, 201)
      assert.equal((await sandbox('DELETE', `/v1/suppressions/${mine[0].id}`)).statusCode, 204, 'its own it may delete')
      assert.equal((await live('POST', '/v1/messages', mail('sandbox-only@example.com'))).json().status, 'suppressed')
    })

    await t.test('the test key lists and reads no live message', async () => {
      const secret = (await live('POST', '/v1/messages', mail('ceo@example.com', 'Q3 acquisition plan'))).json()
      const own = (await sandbox('POST', '/v1/messages', mail('dev@example.com', 'sandbox hello'))).json()
      const list = await sandbox('GET', '/v1/messages?limit=100')
      assert.equal(list.statusCode, 200)
      assert.deepEqual(list.json().data.map((m: { environment: string }) => m.environment).filter((e: string) => e !== 'test'), [])
      assert.ok(list.json().data.some((m: { id: string }) => m.id === own.id), 'its own test messages it sees')
      assert.doesNotMatch(list.body, /Q3 acquisition/)
      assert.equal((await sandbox('GET', `/v1/messages/${secret.id}`)).statusCode, 404)
      // Live credentials see both, each labelled.
      const all = (await live('GET', '/v1/messages?limit=100')).json().data
      assert.ok(all.some((m: { id: string; environment: string }) => m.id === own.id && m.environment === 'test'))
    })

    await t.test('the test key cannot read, change or delete a live contact; its own are test contacts', async () => {
      const jane = (await live('POST', '/v1/contacts', { email: 'jane@example.com', first_name: 'Jane' })).json()
      assert.equal(jane.environment, 'live')
      assert.equal((await sandbox('DELETE', `/v1/contacts/${jane.id}`)).statusCode, 404)
      assert.equal((await sandbox('PATCH', `/v1/contacts/${jane.id}`, { first_name: 'Mallory' })).statusCode, 404)
      assert.equal((await sandbox('GET', `/v1/contacts/${jane.id}`)).statusCode, 404)
      assert.deepEqual((await sandbox('GET', '/v1/contacts')).json().data, [])
      assert.equal((await live('GET', `/v1/contacts/${jane.id}`)).json().first_name, 'Jane')
      // The sandbox may hold its own copy of the address without colliding with (or revealing) the live one.
      const copy = await sandbox('POST', '/v1/contacts', { email: 'jane@example.com', first_name: 'Test Jane' })
      assert.equal(copy.statusCode, 201, copy.body)
      assert.equal(copy.json().environment, 'test')
      assert.equal((await sandbox('POST', '/v1/contacts', { email: 'jane@example.com' })).statusCode, 409, 'dedupe holds inside the sandbox')
    })

    await t.test('an Idempotency-Key first used with the test key does not replay for the live send', async () => {
      const key = { 'idempotency-key': 'order-4711' }
      const body = mail('customer@example.com', 'Order 4711 confirmed')
      const first = await sandbox('POST', '/v1/messages', body, key)
      assert.equal(first.statusCode, 202)
      const real = await live('POST', '/v1/messages', body, key)
      assert.equal(real.statusCode, 202)
      assert.equal(real.headers['idempotent-replayed'], undefined)
      assert.notEqual(real.json().id, first.json().id, 'a new, live message')
      assert.equal((await live('GET', `/v1/messages/${real.json().id}`)).json().environment, 'live')
      // Within one environment the key still replays.
      const again = await live('POST', '/v1/messages', body, key)
      assert.equal(again.headers['idempotent-replayed'], 'true')
      assert.equal(again.json().id, real.json().id)
      const sandboxAgain = await sandbox('POST', '/v1/messages', body, key)
      assert.equal(sandboxAgain.json().id, first.json().id)
    })

    await t.test('webhook endpoints: the test key sees only its own, and they never hear of live mail', async () => {
      const liveHook = (await live('POST', '/v1/webhooks', { url: 'http://127.0.0.1:59999/live' })).json()
      const testHook = (await sandbox('POST', '/v1/webhooks', { url: 'http://127.0.0.1:59999/test' })).json()
      assert.deepEqual([liveHook.environment, testHook.environment], ['live', 'test'])
      assert.deepEqual((await sandbox('GET', '/v1/webhooks')).json().data.map((w: { id: string }) => w.id), [testHook.id])
      assert.equal((await sandbox('DELETE', `/v1/webhooks/${liveHook.id}`)).statusCode, 404)
      const audience = async (env: 'live' | 'test') => (await enabledEndpoints(h.db, org.orgId, env)).map((e) => e.id).sort()
      assert.deepEqual(await audience('live'), [liveHook.id], 'live delivery events go to live endpoints only')
      assert.deepEqual(await audience('test'), [liveHook.id, testHook.id].sort(), 'sandbox events go to both')
    })

    await t.test('signed-in users and live keys still see sandbox objects, each labelled', async () => {
      const both = (await live('GET', '/v1/contacts')).json().data.map((c: { environment: string }) => c.environment).sort()
      assert.deepEqual(both, ['live', 'test'])
    })
  })
}
