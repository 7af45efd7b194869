import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects, REDIS_URL } from '../helpers/dialects.ts'
import { createSendQuotas } from '../../src/limits/quotas.ts'
import { createSqlQuotaStore } from '../../src/limits/quota-sql.ts'
import { createRedisQuotaStore } from '../../src/limits/quota-redis.ts'
import { openRedis, redisReady } from '../../src/limits/redis.ts'
import { AppError } from '../../src/core/errors.ts'
import { createTestClock } from '../../src/core/clock.ts'
import type { Principal } from '../../src/core/principal.ts'
import type { QuotaStore } from '../../src/limits/quota-store.ts'
import type { QuotaLimits } from '../../src/limits/plans.ts'

const principal = (orgId: string, credentialId: string): Principal => ({
  orgId, credentialId, actor: { type: 'key', id: credentialId }, scopes: ['messages:send'], environment: 'live',
})
const limits = (minute: number, hour: number, day: number): QuotaLimits => ({ minute, hour, day })

async function redisOrSkip(): Promise<{ store?: QuotaStore; skip: string | false; close(): Promise<void> }> {
  const client = openRedis(REDIS_URL)
  try {
    await redisReady(client)
    return { store: createRedisQuotaStore(client, `sp:q:test:${randomBytes(4).toString('hex')}`), skip: false, close: async () => { await client.quit() } }
  } catch {
    client.disconnect()
    if (process.env.CI === 'true') throw new Error(`CI=true but Redis is unreachable at ${REDIS_URL}`)
    return { skip: `Redis unreachable at ${REDIS_URL}; skipped (mandatory when CI=true)`, close: async () => {} }
  }
}

const redis = await redisOrSkip()
const backends = [
  ...(await testDialects()).map((d) => ({ name: d.name as string, skip: d.skip, dialect: d.name, redis: false })),
  { name: 'redis', skip: redis.skip, dialect: 'sqlite' as const, redis: true },
]

for (const b of backends) {
  test(`${b.name}: sending quotas`, { skip: b.skip }, async (t) => {
    const clock = createTestClock('2026-03-10T23:59:00Z')
    const h = await buildTestApp({ dialect: b.dialect, clock })
    t.after(() => h.close())
    const store = b.redis ? redis.store! : createSqlQuotaStore(h.db)
    const make = (org: QuotaLimits, key: QuotaLimits = limits(0, 0, 0)) =>
      createSendQuotas({ db: h.db, clock, store, defaults: { org, key }, plans: {} })

    await t.test('the request that crosses the daily quota is refused with what remains', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 10))
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, 4)
      await q.reserve(p, 6)
      await assert.rejects(q.reserve(p, 1), (e: unknown) => {
        assert.ok(e instanceof AppError)
        assert.equal(e.code, 'quota_exceeded')
        assert.equal(e.status, 429)
        assert.deepEqual(e.details, { scope: 'org', window: 'day', limit: 10, remaining: 0, requested: 1, resetAt: '2026-03-11T00:00:00.000Z' })
        assert.equal(e.headers['retry-after'], '60')
        return true
      })
      clock.advance(60_000) // the next UTC day: a new window
      await q.reserve(p, 10)
      clock.advance(-60_000)
    })

    await t.test('a batch that would exceed is refused whole, and counts nothing', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 10), limits(5, 0, 0))
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, 3)
      await assert.rejects(q.reserve(p, 3), (e: any) => e.details.scope === 'key' && e.details.window === 'minute' && e.details.remaining === 2 && e.details.requested === 3)
      await assert.rejects(q.reserve(p, 11), (e: any) => e.details.window === 'day' && e.details.remaining === 7)
      const usage = await q.usage(p)
      assert.deepEqual(usage.map((u) => [u.scope, u.window, u.used]), [['org', 'day', 3], ['key', 'minute', 3]])
      await q.reserve(p, 2) // exactly fits the key's minute
    })

    await t.test('the counter is exact under 50 concurrent requests', async () => {
      const { orgId, liveKeyId, testKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 20))
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => q.reserve(principal(orgId, i % 2 ? liveKeyId : testKeyId), 1)))
      const ok = results.filter((r) => r.status === 'fulfilled').length
      const refused = results.filter((r) => r.status === 'rejected')
      assert.equal(ok, 20)
      assert.equal(refused.length, 30)
      for (const r of refused) assert.equal(((r as PromiseRejectedResult).reason as AppError).code, 'quota_exceeded')
      assert.equal((await q.usage(principal(orgId, liveKeyId)))[0].used, 20)
    })

    await t.test('batches under concurrency: never more than the limit, all-or-nothing per batch', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 100, 0))
      const sizes = Array.from({ length: 50 }, (_, i) => 1 + (i % 7))
      const results = await Promise.allSettled(sizes.map((n) => q.reserve(principal(orgId, liveKeyId), n)))
      const reserved = results.reduce((sum, r, i) => sum + (r.status === 'fulfilled' ? sizes[i] : 0), 0)
      assert.equal((await q.usage(principal(orgId, liveKeyId)))[0].used, reserved)
      assert.ok(reserved <= 100 && reserved > 93, `reserved ${reserved}`)
    })

    await t.test('org settings choose the plan, explicit quotas override it', async () => {
      const plans = { free: { org: limits(0, 0, 2) } }
      const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: limits(0, 0, 100), key: limits(0, 0, 0) }, plans })
      const free = await h.seedOrg('Free')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'free' }) }).where('id', '=', free.orgId).execute()
      const custom = await h.seedOrg('Custom')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'free', quotas: { org: { day: 3 } } }) }).where('id', '=', custom.orgId).execute()
      await q.reserve(principal(free.orgId, free.liveKeyId), 2)
      await assert.rejects(q.reserve(principal(free.orgId, free.liveKeyId), 1), (e: any) => e.details.limit === 2)
      await q.reserve(principal(custom.orgId, custom.liveKeyId), 3)
      await assert.rejects(q.reserve(principal(custom.orgId, custom.liveKeyId), 1), (e: any) => e.details.limit === 3)
    })

    await t.test('no limits configured: nothing is counted', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 0))
      for (let i = 0; i < 5; i++) await q.reserve(principal(orgId, liveKeyId), 1000)
      assert.deepEqual(await q.usage(principal(orgId, liveKeyId)), [])
    })
  })
}

test.after(() => redis.close())
