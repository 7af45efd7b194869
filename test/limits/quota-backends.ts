/** What the quota tests share: a principal, amounts, and the three backends (SQLite, PostgreSQL, Redis). */
import { randomBytes } from 'node:crypto'
import { testDialects, REDIS_URL } from '../helpers/dialects.ts'
import { createRedisQuotaStore } from '../../src/limits/quota-redis.ts'
import { openRedis, redisReady } from '../../src/limits/redis.ts'
import type { Principal } from '../../src/core/principal.ts'
import type { QuotaStore } from '../../src/limits/quota-store.ts'

export const principal = (orgId: string, credentialId: string): Principal => ({
  orgId, credentialId, actor: { type: 'key', id: credentialId }, scopes: ['messages:send'], environment: 'live',
})
/** `count` messages with one recipient each. */
export const n = (count: number) => ({ messages: count, recipients: count })
export const NONE = { minute: 0, hour: 0, day: 0 }

/** A Redis quota store under a fresh prefix, or the skip reason (never skipped under CI=true). */
export async function redisOrSkip(name: string): Promise<{ store?: QuotaStore; skip: string | false; close(): Promise<void> }> {
  const client = openRedis(REDIS_URL)
  try {
    await redisReady(client)
    return { store: createRedisQuotaStore(client, `sp:q:${name}:${randomBytes(4).toString('hex')}`), skip: false, close: async () => { await client.quit() } }
  } catch {
    client.disconnect()
    if (process.env.CI === 'true') throw new Error(`CI=true but Redis is unreachable at ${REDIS_URL}`)
    return { skip: `Redis unreachable at ${REDIS_URL}; skipped (mandatory when CI=true)`, close: async () => {} }
  }
}

/** Both SQL dialects, then Redis (on SQLite) when it answers. */
export async function quotaBackends(redis: { skip: string | false }) {
  return [
    ...(await testDialects()).map((d) => ({ name: d.name as string, skip: d.skip, dialect: d.name, redis: false })),
    { name: 'redis', skip: redis.skip, dialect: 'sqlite' as const, redis: true },
  ]
}
