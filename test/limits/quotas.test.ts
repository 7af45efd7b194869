import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { principal, n, NONE, redisOrSkip, quotaBackends } from './quota-backends.ts'
import { createSendQuotas } from '../../src/limits/quotas.ts'
import { createSqlQuotaStore } from '../../src/limits/quota-sql.ts'
import { AppError } from '../../src/core/errors.ts'
import { createTestClock } from '../../src/core/clock.ts'
import type { Principal } from '../../src/core/principal.ts'
import type { QuotaLimits } from '../../src/limits/plans.ts'

const limits = (minute: number, hour: number, day: number): QuotaLimits => ({ minute, hour, day })

const redis = await redisOrSkip('test')
const backends = await quotaBackends(redis)

for (const b of backends) {
  test(`${b.name}: sending quotas`, { skip: b.skip }, async (t) => {
    const clock = createTestClock('2026-03-10T23:59:00Z')
    const h = await buildTestApp({ dialect: b.dialect, clock })
    t.after(() => h.close())
    const store = b.redis ? redis.store! : createSqlQuotaStore(h.db)
    // Message quotas only (recipients unlimited), as before recipients were counted; recipients are tested below.
    const make = (org: QuotaLimits, key: QuotaLimits = limits(0, 0, 0)) =>
      createSendQuotas({ db: h.db, clock, store, defaults: { org, key, org_recipients: NONE, key_recipients: NONE }, plans: {} })

    await t.test('the request that crosses the daily quota is refused with what remains', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 10))
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, n(4))
      await q.reserve(p, n(6))
      await assert.rejects(q.reserve(p, n(1)), (e: unknown) => {
        assert.ok(e instanceof AppError)
        assert.equal(e.code, 'quota_exceeded')
        assert.equal(e.status, 429)
        assert.deepEqual(e.details, { scope: 'org', unit: 'messages', window: 'day', limit: 10, remaining: 0, requested: 1, resetAt: '2026-03-11T00:00:00.000Z' })
        assert.equal(e.headers['retry-after'], '60')
        return true
      })
      clock.advance(60_000) // the next UTC day: a new window
      await q.reserve(p, n(10))
      clock.advance(-60_000)
    })

    await t.test('a batch that would exceed is refused whole, and counts nothing', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 10), limits(5, 0, 0))
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, n(3))
      await assert.rejects(q.reserve(p, n(3)), (e: any) => e.details.scope === 'key' && e.details.window === 'minute' && e.details.remaining === 2 && e.details.requested === 3)
      await assert.rejects(q.reserve(p, n(11)), (e: any) => e.details.window === 'day' && e.details.remaining === 7)
      const usage = await q.usage(p)
      assert.deepEqual(usage.map((u) => [u.scope, u.window, u.used]), [['org', 'day', 3], ['key', 'minute', 3]])
      await q.reserve(p, n(2)) // exactly fits the key's minute
    })

    await t.test('the counter is exact under 50 concurrent requests', async () => {
      const { orgId, liveKeyId, testKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 20))
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => q.reserve(principal(orgId, i % 2 ? liveKeyId : testKeyId), n(1))))
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
      const results = await Promise.allSettled(sizes.map((size) => q.reserve(principal(orgId, liveKeyId), n(size))))
      const reserved = results.reduce((sum, r, i) => sum + (r.status === 'fulfilled' ? sizes[i] : 0), 0)
      assert.equal((await q.usage(principal(orgId, liveKeyId)))[0].used, reserved)
      assert.ok(reserved <= 100 && reserved > 93, `reserved ${reserved}`)
    })

    await t.test('org settings choose the plan, explicit quotas override it', async () => {
      const plans = { free: { org: limits(0, 0, 2) } }
      const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: limits(0, 0, 100), key: limits(0, 0, 0), org_recipients: NONE, key_recipients: NONE }, plans })
      const free = await h.seedOrg('Free')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'free' }) }).where('id', '=', free.orgId).execute()
      const custom = await h.seedOrg('Custom')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'free', quotas: { org: { day: 3 } } }) }).where('id', '=', custom.orgId).execute()
      await q.reserve(principal(free.orgId, free.liveKeyId), n(2))
      await assert.rejects(q.reserve(principal(free.orgId, free.liveKeyId), n(1)), (e: any) => e.details.limit === 2)
      await q.reserve(principal(custom.orgId, custom.liveKeyId), n(3))
      await assert.rejects(q.reserve(principal(custom.orgId, custom.liveKeyId), n(1)), (e: any) => e.details.limit === 3)
    })

    await t.test('no limits configured: nothing is counted', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 0))
      for (let i = 0; i < 5; i++) await q.reserve(principal(orgId, liveKeyId), n(1000))
      assert.deepEqual(await q.usage(principal(orgId, liveKeyId)), [])
    })

    // Finding 10: "20/min messages → 1,000 recipients". Recipients are a dimension of their own.
    await t.test('recipients are counted: 20 messages a minute do not buy 1,000 recipients', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: limits(20, 0, 0), key: NONE, org_recipients: limits(100, 0, 0), key_recipients: NONE }, plans: {} })
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, { messages: 1, recipients: 50 })
      await q.reserve(p, { messages: 1, recipients: 50 })
      // The third 50-recipient message fits the message quota (2 of 20 used) but not the recipients one.
      await assert.rejects(q.reserve(p, { messages: 1, recipients: 50 }), (e: unknown) => {
        assert.ok(e instanceof AppError)
        assert.equal(e.code, 'quota_exceeded')
        assert.deepEqual(e.details, { scope: 'org', unit: 'recipients', window: 'minute', limit: 100, remaining: 0, requested: 50, resetAt: '2026-03-11T00:00:00.000Z' })
        assert.match(e.message, /100 recipients per minute/)
        return true
      })
      // Refused reserves nothing, in any dimension: still 2 messages and 100 recipients.
      const used = Object.fromEntries((await q.usage(p)).map((u) => [`${u.scope}.${u.unit}.${u.window}`, u.used]))
      assert.deepEqual(used, { 'org.messages.minute': 2, 'org.recipients.minute': 100 })
    })

    await t.test('a message refused on messages reserves no recipients either (one atomic reservation)', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: NONE, key: limits(0, 2, 0), org_recipients: limits(0, 1000, 0), key_recipients: NONE }, plans: {} })
      const p = principal(orgId, liveKeyId)
      await q.reserve(p, { messages: 2, recipients: 10 })
      await assert.rejects(q.reserve(p, { messages: 1, recipients: 10 }), (e: any) => e.details.scope === 'key' && e.details.unit === 'messages')
      const used = Object.fromEntries((await q.usage(p)).map((u) => [`${u.scope}.${u.unit}`, u.used]))
      assert.deepEqual(used, { 'key.messages': 2, 'org.recipients': 10 })
    })

    await t.test('unset recipient quotas follow the message quota (after plan and org settings)', async () => {
      const plans = { small: { org: limits(5, 0, 0) }, wide: { org: limits(5, 0, 0), org_recipients: limits(500, 0, 0) } }
      const q = createSendQuotas({ db: h.db, clock, store, defaults: { org: limits(1000, 0, 0), key: NONE }, plans })
      const small = await h.seedOrg('Small')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'small' }) }).where('id', '=', small.orgId).execute()
      const wide = await h.seedOrg('Wide')
      await h.db.updateTable('orgs').set({ settings: JSON.stringify({ plan: 'wide' }) }).where('id', '=', wide.orgId).execute()
      await assert.rejects(q.reserve(principal(small.orgId, small.liveKeyId), { messages: 1, recipients: 6 }), (e: any) => e.details.unit === 'recipients' && e.details.limit === 5)
      await q.reserve(principal(wide.orgId, wide.liveKeyId), { messages: 1, recipients: 50 })
    })

    await t.test('test sends count apart: the sandbox never uses up the live quota', async () => {
      const { orgId, liveKeyId, testKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 3))
      const sandbox: Principal = { ...principal(orgId, testKeyId), environment: 'test' }
      await q.reserve(sandbox, n(3))
      await assert.rejects(q.reserve(sandbox, n(1)), (e: any) => e.code === 'quota_exceeded')
      await q.reserve(principal(orgId, liveKeyId), n(3))
      await assert.rejects(q.reserve(principal(orgId, liveKeyId), n(1)), (e: any) => e.code === 'quota_exceeded')
    })

    await t.test('a reservation is at least one message and never negative recipients', async () => {
      const { orgId, liveKeyId } = await h.seedOrg()
      const q = make(limits(0, 0, 3))
      for (const bad of [{ messages: 0, recipients: 1 }, { messages: 1, recipients: -1 }, { messages: 1.5, recipients: 1 }]) {
        await assert.rejects(q.reserve(principal(orgId, liveKeyId), bad), (e: any) => e.code === 'invalid_request')
      }
    })
  })
}

test.after(() => redis.close())
