import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects, REDIS_URL } from '../helpers/dialects.ts'
import { createSendQuotas } from '../../src/limits/quotas.ts'
import { createSqlQuotaStore } from '../../src/limits/quota-sql.ts'
import { createRedisQuotaStore } from '../../src/limits/quota-redis.ts'
import { openRedis, redisReady } from '../../src/limits/redis.ts'
import { parseQuotaConfig, toLimits, windowBounds } from '../../src/limits/plans.ts'
import { AppError } from '../../src/core/errors.ts'
import { createTestClock, DAY } from '../../src/core/clock.ts'
import type { Principal } from '../../src/core/principal.ts'
import type { QuotaStore } from '../../src/limits/quota-store.ts'

const n = (count: number) => ({ messages: count, recipients: count })
const NONE = { minute: 0, hour: 0, day: 0 }
const principal = (orgId: string, credentialId: string): Principal => ({
  orgId, credentialId, actor: { type: 'key', id: credentialId }, scopes: ['messages:send'], environment: 'live',
})

test('month limits parse from "m/h/d/month" and { month }, and nothing else', () => {
  assert.deepEqual(toLimits('0/0/0/500'), { minute: 0, hour: 0, day: 0, month: 500 })
  assert.deepEqual(toLimits('60/1000/10000'), { minute: 60, hour: 1000, day: 10000 })
  assert.deepEqual(toLimits({ month: 7 }), { minute: 0, hour: 0, day: 0, month: 7 })
  assert.equal(toLimits('1/2/3/4/5'), null)
  assert.equal(toLimits({ year: 1 }), null)
  assert.equal(toLimits({ month: -1 }), null)
  assert.deepEqual(parseQuotaConfig({ quotaOrg: '0/0/0/9', quotaKey: '0/0/0', quotaPlans: '{"pro":{"org":{"month":100}}}' }).plans.pro.org?.month, 100)
})

test('the month window is the UTC calendar month, whatever its length', () => {
  const b = (iso: string) => { const w = windowBounds('month', Date.parse(iso)); return [new Date(w.start).toISOString(), new Date(w.end).toISOString()] }
  assert.deepEqual(b('2026-02-28T23:59:59.999Z'), ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'])
  assert.deepEqual(b('2026-03-01T00:00:00.000Z'), ['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'])
  assert.deepEqual(b('2026-12-31T12:00:00Z'), ['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'])
  assert.deepEqual(b('2028-02-29T00:00:00Z'), ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'])
})

async function redisOrSkip(): Promise<{ store?: QuotaStore; skip: string | false; close(): Promise<void> }> {
  const client = openRedis(REDIS_URL)
  try {
    await redisReady(client)
    return { store: createRedisQuotaStore(client, `sp:q:month:${randomBytes(4).toString('hex')}`), skip: false, close: async () => { await client.quit() } }
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
  test(`${b.name}: monthly sending quota`, { skip: b.skip }, async (t) => {
    const clock = createTestClock('2026-02-20T12:00:00Z')
    const h = await buildTestApp({ dialect: b.dialect, clock })
    t.after(() => h.close())
    const store = b.redis ? redis.store! : createSqlQuotaStore(h.db)
    const { orgId, liveKeyId } = await h.seedOrg()
    const p = principal(orgId, liveKeyId)
    const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: { minute: 0, hour: 0, day: 5, month: 12 }, key: NONE, org_recipients: NONE, key_recipients: NONE }, plans: {} })

    await t.test('counts across days, refuses at the month limit until the 1st (UTC)', async () => {
      await q.reserve(p, n(5))
      clock.advance(DAY) // a new day: the daily window restarts, the month does not
      await q.reserve(p, n(5))
      clock.set('2026-02-28T23:59:00Z')
      await q.reserve(p, n(2))
      await assert.rejects(q.reserve(p, n(1)), (e: unknown) => {
        assert.ok(e instanceof AppError)
        assert.equal(e.code, 'quota_exceeded')
        assert.deepEqual(e.details, { scope: 'org', unit: 'messages', window: 'month', limit: 12, remaining: 0, requested: 1, resetAt: '2026-03-01T00:00:00.000Z' })
        assert.equal(e.headers['retry-after'], '60')
        return true
      })
      const usage = await q.usage(p)
      assert.deepEqual(usage.map((u) => [u.window, u.used, u.resetAt]), [['day', 2, '2026-03-01T00:00:00.000Z'], ['month', 12, '2026-03-01T00:00:00.000Z']])
      clock.set('2026-03-01T00:00:00Z')
      await q.reserve(p, n(5))
      await assert.rejects(q.reserve(p, n(1)), (e: any) => e.details.window === 'day')
      assert.equal((await q.usage(p)).find((u) => u.window === 'month')?.used, 5)
    })

    await t.test('a batch crossing the month limit is refused whole', async () => {
      clock.set('2026-03-02T00:00:00Z')
      await q.reserve(p, n(5))
      clock.set('2026-03-03T00:00:00Z')
      await assert.rejects(q.reserve(p, n(5)), (e: any) => e.details.window === 'month' && e.details.remaining === 2 && e.details.requested === 5)
      assert.deepEqual((await q.usage(p)).map((u) => u.used), [0, 10], 'nothing counted, not even in the day window')
      await q.reserve(p, n(2))
    })
  })
}

test.after(() => redis.close())
