import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects, REDIS_URL } from '../helpers/dialects.ts'
import { openRedis, redisReady } from '../../src/limits/redis.ts'

async function redisSkip(): Promise<string | false> {
  const c = openRedis(REDIS_URL)
  try { await redisReady(c); await c.quit(); return false } catch {
    c.disconnect()
    if (process.env.CI === 'true') throw new Error(`CI=true but Redis is unreachable at ${REDIS_URL}`)
    return `Redis unreachable at ${REDIS_URL}; skipped (mandatory when CI=true)`
  }
}

const message = (i: number) => ({ from: 'billing@acme.test', to: [`user${i}@example.com`], subject: `Invoice ${i}`, text: 'Hi' })
const backends = [
  ...(await testDialects()).map((d) => ({ label: d.name as string, dialect: d.name, skip: d.skip, env: {} as Record<string, string> })),
  { label: 'redis', dialect: 'sqlite' as const, skip: await redisSkip(), env: { REDIS_URL } },
]

for (const b of backends) {
  test(`${b.label}: send API enforces the daily quota exactly`, { skip: b.skip }, async (t) => {
    const h = await buildTestApp({ dialect: b.dialect, env: { ...b.env, SEALPOST_QUOTA_ORG: '0/0/20', SEALPOST_RATE_LIMIT_PER_KEY: '10000', SEALPOST_RATE_LIMIT_PER_ORG: '10000' } })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const send = (path: string, body: unknown) => h.http.inject({ method: 'POST', url: path, headers: bearer(org.liveKey), payload: body as object })

    await t.test('50 concurrent sends: exactly 20 accepted, the rest refused with 429 quota_exceeded', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => send('/v1/messages', message(i))))
      const accepted = results.filter((r) => r.statusCode === 202).length
      const refused = results.filter((r) => r.statusCode === 429)
      assert.equal(accepted, 20, results.map((r) => r.statusCode).join(','))
      assert.equal(refused.length, 30)
      const e = refused[0].json().error
      assert.equal(e.code, 'quota_exceeded')
      assert.deepEqual({ window: e.details.window, limit: e.details.limit, remaining: e.details.remaining }, { window: 'day', limit: 20, remaining: 0 })
      assert.ok(Number(refused[0].headers['retry-after']) >= 1)
      const list = await h.http.inject({ method: 'GET', url: '/v1/messages?limit=100', headers: bearer(org.liveKey) })
      assert.equal(list.json().data.length, 20)
    })

    await t.test('a batch that would cross the quota is refused whole', async () => {
      const other = await h.seedOrg('Other')
      await h.seedDomain(other.orgId, 'other.test')
      const msg = (i: number) => ({ ...message(i), from: 'news@other.test' })
      const post = (body: unknown) => h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(other.liveKey), payload: body as object })
      assert.equal((await post({ messages: Array.from({ length: 15 }, (_, i) => msg(i)) })).statusCode, 202)
      const r = await post({ messages: Array.from({ length: 6 }, (_, i) => msg(i)) })
      assert.equal(r.statusCode, 429)
      assert.deepEqual(r.json().error.details, { ...r.json().error.details, window: 'day', limit: 20, remaining: 5, requested: 6 })
      assert.equal((await post({ messages: Array.from({ length: 5 }, (_, i) => msg(i)) })).statusCode, 202)
      const list = await h.http.inject({ method: 'GET', url: '/v1/messages?limit=100', headers: bearer(other.liveKey) })
      assert.equal(list.json().data.length, 20)
    })

    // Finding 10: a quota of 20 messages must not let 20 messages x 50 recipients through.
    await t.test('recipients count: a quota of 20 is 20 recipients too, however they are packed into messages', async () => {
      const org3 = await h.seedOrg('Wide')
      await h.seedDomain(org3.orgId, 'wide.test')
      const post = (to: string[]) => h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org3.liveKey), payload: { from: 'news@wide.test', to, subject: 'Hi', text: 'Hi' } })
      const rcpts = (k: number, tag: string) => Array.from({ length: k }, (_, i) => `${tag}${i}@example.com`)
      const tooMany = await post(rcpts(21, 'a'))
      assert.equal(tooMany.statusCode, 429, tooMany.body)
      assert.deepEqual(tooMany.json().error.details, { ...tooMany.json().error.details, scope: 'org', unit: 'recipients', limit: 20, requested: 21 })
      assert.equal((await post(rcpts(20, 'b'))).statusCode, 202)
      // One message of 20 used: the messages quota has 19 left, the recipients quota none.
      const next = await post(['late@example.com'])
      assert.equal(next.statusCode, 429)
      assert.equal(next.json().error.details.unit, 'recipients')
      const list = await h.http.inject({ method: 'GET', url: '/v1/messages?limit=100', headers: bearer(org3.liveKey) })
      assert.equal(list.json().data.length, 1, 'refused sends stored nothing')
    })

    // Finding 8: sandbox sends consumed the live quota.
    await t.test('test sends have their own quota: they never use up the live one', async () => {
      const org4 = await h.seedOrg('Sandboxed')
      await h.seedDomain(org4.orgId, 'sandboxed.test')
      const batch = (key: string, k: number) => h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(key), payload: { messages: Array.from({ length: k }, (_, i) => ({ ...message(i), from: 'news@sandboxed.test' })) } })
      assert.equal((await batch(org4.testKey, 20)).statusCode, 202)
      assert.equal((await batch(org4.testKey, 1)).statusCode, 429, 'the sandbox has a quota of its own')
      const live = await batch(org4.liveKey, 20)
      assert.equal(live.statusCode, 202, live.body)
      assert.equal((await batch(org4.liveKey, 1)).statusCode, 429)
    })
  })
}
