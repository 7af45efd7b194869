import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { principal, n, NONE, redisOrSkip, quotaBackends } from './quota-backends.ts'
import { createSendQuotas } from '../../src/limits/quotas.ts'
import { createSqlQuotaStore } from '../../src/limits/quota-sql.ts'
import { parseQuotaConfig, toLimits, windowBounds } from '../../src/limits/plans.ts'
import { AppError } from '../../src/core/errors.ts'
import { createTestClock, DAY } from '../../src/core/clock.ts'


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


const redis = await redisOrSkip('month')
const backends = await quotaBackends(redis)

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
