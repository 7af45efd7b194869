import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openRedis } from '../../src/limits/redis.ts'
import { createRateLimiter } from '../../src/limits/rate-limiter.ts'
import { createRedisQuotaStore } from '../../src/limits/quota-redis.ts'
import { AppError } from '../../src/core/errors.ts'

// Nothing listens on port 1: the client never becomes ready.
const DOWN = 'redis://127.0.0.1:1'

test('Redis down: rate limits fall back to in-process counting, never lifted', async (t) => {
  const redis = openRedis(DOWN)
  t.after(() => redis.disconnect())
  const limiter = createRateLimiter({ windowSec: 60, perKey: 3, perOrg: 0, perIp: 0, authFailuresPerIp: 0, redis })
  const outcomes = []
  for (let i = 0; i < 5; i++) outcomes.push(await limiter.consume('key', 'key_1'))
  assert.deepEqual(outcomes.map((o) => o!.allowed), [true, true, true, false, false])
})

test('Redis down: sending quotas fail closed with 503, not 500 and not unlimited', async (t) => {
  const redis = openRedis(DOWN)
  t.after(() => redis.disconnect())
  const store = createRedisQuotaStore(redis)
  const now = Date.now()
  await assert.rejects(store.reserve('org_1', [{ scope: 'org', unit: 'messages', subject: 'org', window: 'day', limit: 10, amount: 1, windowStart: now, resetAt: now + 1000 }], now), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'unavailable')
    assert.equal(e.status, 503)
    assert.equal(e.headers['retry-after'], '5')
    return true
  })
})
