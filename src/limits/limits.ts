/**
 * Builds limits/ from config: the request rate limiter (with its pipeline hooks)
 * and the sending quotas, on Redis when REDIS_URL is set (shared by every process),
 * in-process / SQL otherwise.
 */
import type { Redis } from 'ioredis'
import type { Config } from '../config/load.ts'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { RequestHook } from '../http/pipeline.ts'
import { openRedis, redisReady } from './redis.ts'
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts'
import { createRateLimitHook, guardAuthentication } from './rate-limit-hook.ts'
import { parseQuotaConfig } from './plans.ts'
import { createSendQuotas, type SendQuotas } from './quotas.ts'
import { createSqlQuotaStore } from './quota-sql.ts'
import { createRedisQuotaStore } from './quota-redis.ts'

export interface Limits {
  limiter: RateLimiter
  /** `steps.rateLimit` */
  rateLimit: RequestHook
  /** Wraps `steps.authenticate` so repeated failures from one IP get 429. */
  guardAuthentication(authenticate: RequestHook): RequestHook
  quotas: SendQuotas
  /**
   * Resolves once Redis (if any) is connected, or after `timeoutMs` with a warning:
   * until then the limiter would fall back to per-process counting.
   */
  ready(timeoutMs?: number): Promise<string | null>
  close(): Promise<void>
}

export function createLimits(deps: { config: Config; db: Db; clock: Clock; redis?: Redis }): Limits {
  const { config } = deps
  const { defaults, plans } = parseQuotaConfig(config.limits)
  const ownRedis = !deps.redis && config.redisUrl ? openRedis(config.redisUrl) : undefined
  const redis = deps.redis ?? ownRedis
  const limiter = createRateLimiter({ ...config.limits, redis })
  const store = redis ? createRedisQuotaStore(redis) : createSqlQuotaStore(deps.db)
  return {
    limiter,
    rateLimit: createRateLimitHook(limiter),
    guardAuthentication: (authenticate) => guardAuthentication(authenticate, limiter),
    quotas: createSendQuotas({ db: deps.db, clock: deps.clock, store, defaults, plans }),
    async ready(timeoutMs = 5000) {
      if (!redis) return null
      try { await redisReady(redis, timeoutMs); return null } catch {
        return `REDIS_URL is set but Redis did not answer within ${timeoutMs} ms: rate limits count per process and sends are refused (503) until it does`
      }
    },
    async close() { if (ownRedis) await ownRedis.quit().catch(() => ownRedis.disconnect()) },
  }
}
