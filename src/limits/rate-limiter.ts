/**
 * Request rate limits (rate-limiter-flexible), fixed windows per bucket:
 * - key:   per credential (principal.credentialId)
 * - org:   per organization, all its credentials together
 * - ip:    per client IP on unauthenticated (public) routes
 * - route: per route, from `config.rateLimit` (leaked-key reports, login...), per credential or IP
 * - authfail: failed authentications per client IP
 * In-process by default; with Redis every process shares the counters (one Lua
 * round trip per bucket), and an in-process limiter with the same policy takes
 * over when Redis is unreachable, so an outage never lifts the limits entirely.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Redis } from 'ioredis'

export type BucketName = 'key' | 'org' | 'ip' | 'route' | 'authfail'

export interface Policy {
  name: BucketName
  points: number
  windowSec: number
}

export interface Outcome {
  policy: Policy
  allowed: boolean
  remaining: number
  /** Seconds until the window resets. */
  resetSec: number
}

export interface RateLimiterOptions {
  windowSec: number
  perKey: number
  perOrg: number
  perIp: number
  authFailuresPerIp: number
  redis?: Redis
  /** Redis key prefix (tests isolate runs with it). */
  prefix?: string
}

export interface RateLimiter {
  consume(bucket: Exclude<BucketName, 'route'>, subject: string): Promise<Outcome | null>
  consumeRoute(routeId: string, subject: string, policy: { points: number; durationSec: number }): Promise<Outcome>
  policy(bucket: BucketName): Policy | null
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const prefix = opts.prefix ?? 'sp:rl'
  const make = (name: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix: `${prefix}:${name}`, points, duration })
    if (!opts.redis) return memory
    return new RateLimiterRedis({
      storeClient: opts.redis, keyPrefix: `${prefix}:${name}`, points, duration,
      rejectIfRedisNotReady: true, insuranceLimiter: memory,
    })
  }
  const policies: Partial<Record<BucketName, Policy>> = {}
  const limiters: Partial<Record<BucketName, RateLimiterAbstract>> = {}
  const define = (name: Exclude<BucketName, 'route'>, points: number) => {
    if (points <= 0) return
    policies[name] = { name, points, windowSec: opts.windowSec }
    limiters[name] = make(name, points, opts.windowSec)
  }
  define('key', opts.perKey)
  define('org', opts.perOrg)
  define('ip', opts.perIp)
  define('authfail', opts.authFailuresPerIp)
  const routeLimiters = new Map<string, { limiter: RateLimiterAbstract; policy: Policy }>()

  async function run(limiter: RateLimiterAbstract, policy: Policy, subject: string): Promise<Outcome> {
    try {
      const r = await limiter.consume(subject)
      return { policy, allowed: true, remaining: r.remainingPoints, resetSec: Math.ceil(r.msBeforeNext / 1000) }
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e
      return { policy, allowed: false, remaining: 0, resetSec: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) }
    }
  }

  return {
    policy: (bucket) => policies[bucket] ?? null,
    async consume(bucket, subject) {
      const limiter = limiters[bucket]
      return limiter ? run(limiter, policies[bucket]!, subject) : null
    },
    async consumeRoute(routeId, subject, p) {
      const id = `${routeId}:${p.points}:${p.durationSec}`
      let entry = routeLimiters.get(id)
      if (!entry) {
        entry = { limiter: make(`route:${id}`, p.points, p.durationSec), policy: { name: 'route', points: p.points, windowSec: p.durationSec } }
        routeLimiters.set(id, entry)
      }
      return run(entry.limiter, entry.policy, subject)
    },
  }
}
