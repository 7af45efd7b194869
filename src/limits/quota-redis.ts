import type { Redis } from 'ioredis'
import { AppError } from '../core/errors.ts'
import type { QuotaStore } from './quota-store.ts'

/**
 * KEYS: one per counter (the window start is in the key, so a new window is a new key).
 * ARGV: amount, limit and ttl-ms per key. Checks every counter, then increments
 * all of them, in one atomic script: all-or-nothing like the SQL store.
 * Returns { 0, 0 } on success, { i, used } for the first counter that would overflow.
 */
const RESERVE = `
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + tonumber(ARGV[i * 3 - 2]) > tonumber(ARGV[i * 3 - 1]) then return { i, used } end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, ARGV[i * 3 - 2])
  redis.call('PEXPIRE', key, ARGV[i * 3])
end
return { 0, 0 }
`

type WithReserve = Redis & { spQuotaReserve(numKeys: number, ...args: (string | number)[]): Promise<[number, number]> }

export function createRedisQuotaStore(redis: Redis, prefix = 'sp:q'): QuotaStore {
  const client = redis as WithReserve
  if (typeof client.spQuotaReserve !== 'function') client.defineCommand('spQuotaReserve', { lua: RESERVE })
  // {orgId} is a hash tag: every key of one org lands in the same cluster slot.
  const keyOf = (orgId: string, c: { subject: string; window: string; windowStart: number }) => `${prefix}:{${orgId}}:${c.subject}:${c.window}:${c.windowStart}`
  return {
    async reserve(orgId, counters, now) {
      const keys = counters.map((c) => keyOf(orgId, c))
      const args = counters.flatMap((c) => [c.amount, c.limit, c.resetAt - now + 60_000])
      let result: [number, number]
      try { result = await client.spQuotaReserve(keys.length, ...keys, ...args) } catch (e) {
        // Fail closed: without the shared counter nothing can be sent within the quota.
        throw new AppError('unavailable', 'Sending quotas cannot be checked right now; nothing was sent. Retry shortly.', { cause: e, headers: { 'retry-after': '5' } })
      }
      const [i, used] = result
      return i === 0 ? null : { counter: counters[i - 1], used: Number(used) }
    },
    async usage(orgId, counters) {
      if (!counters.length) return []
      const values = await client.mget(counters.map((c) => keyOf(orgId, c)))
      return values.map((v) => Number(v ?? 0))
    },
  }
}
