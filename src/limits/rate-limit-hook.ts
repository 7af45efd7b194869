import { AppError } from '../core/errors.ts'
import type { RequestHook } from '../http/pipeline.ts'
import type { Outcome, RateLimiter } from './rate-limiter.ts'
import { rateLimitHeaders } from './rate-limit-headers.ts'

function refusal(outcomes: Outcome[], headers: Record<string, string>): AppError {
  const worst = outcomes.filter((o) => !o.allowed).reduce((a, b) => (b.resetSec > a.resetSec ? b : a))
  const { name, points, windowSec } = worst.policy
  return new AppError('rate_limited', `Rate limit exceeded (${name}: ${points} requests per ${windowSec} s). Retry after ${worst.resetSec} s.`, {
    details: { policy: name, limit: points, windowSec, retryAfterSec: worst.resetSec },
    headers: { ...headers, 'retry-after': String(worst.resetSec) },
  })
}

/**
 * The pipeline's rate-limit step (after authentication): key + org buckets for an
 * authenticated principal (the org bucket per environment), the IP bucket otherwise, plus the route's own
 * `config.rateLimit` bucket. Buckets are consumed in parallel: one limiter call
 * (one Redis round trip) each. Sets RateLimit-Policy / RateLimit on the reply;
 * 429 `rate_limited` with Retry-After when any bucket is exhausted.
 */
export function createRateLimitHook(limiter: RateLimiter): RequestHook {
  return async (req, reply) => {
    const p = req.principal
    const pending = p
      // Per environment: sandbox traffic never exhausts the organization's live budget.
      ? [limiter.consume('key', p.credentialId), limiter.consume('org', p.environment === 'live' ? p.orgId : `${p.orgId}:${p.environment}`)]
      : [limiter.consume('ip', req.clientIp)]
    const route = req.routeOptions.config?.rateLimit
    if (route) pending.push(limiter.consumeRoute(`${req.method} ${req.routeOptions.url ?? '*'}`, p?.credentialId ?? req.clientIp, route))
    const outcomes = (await Promise.all(pending)).filter((o): o is Outcome => o !== null)
    const headers = rateLimitHeaders(outcomes)
    reply.headers(headers)
    if (outcomes.some((o) => !o.allowed)) throw refusal(outcomes, headers)
  }
}

const MAX_BLOCKED = 100_000

/**
 * Wraps the authenticate step: each failed authentication costs the client IP a
 * point of the `authfail` bucket; once it is exhausted the IP gets 429 before any
 * credential lookup, until the window resets. Successful requests cost nothing
 * (the block list is a local Map: no round trip on the hot path). Times are the
 * limiter's wall clock, which is what its windows run on.
 */
export function guardAuthentication(authenticate: RequestHook, limiter: RateLimiter): RequestHook {
  const blockedUntil = new Map<string, number>()
  return async (req, reply) => {
    const until = blockedUntil.get(req.clientIp)
    if (until !== undefined) {
      const left = Math.ceil((until - Date.now()) / 1000)
      if (left > 0) throw tooManyFailures(limiter, left)
      blockedUntil.delete(req.clientIp)
    }
    try {
      await authenticate(req, reply)
    } catch (e) {
      // Only a presented-but-wrong credential counts: a missing one is not a guess.
      if (e instanceof AppError && e.code === 'unauthenticated' && req.authFailure !== 'missing_credentials') {
        const o = await limiter.consume('authfail', req.clientIp)
        if (o && !o.allowed) {
          if (blockedUntil.size >= MAX_BLOCKED) blockedUntil.delete(blockedUntil.keys().next().value!)
          blockedUntil.set(req.clientIp, Date.now() + o.resetSec * 1000)
          throw tooManyFailures(limiter, o.resetSec)
        }
      }
      throw e
    }
  }
}

function tooManyFailures(limiter: RateLimiter, retryAfterSec: number): AppError {
  const p = limiter.policy('authfail')!
  return new AppError('rate_limited', `Too many failed authentications from this address. Retry after ${retryAfterSec} s.`, {
    details: { policy: 'authfail', limit: p.points, windowSec: p.windowSec, retryAfterSec },
    headers: { 'retry-after': String(retryAfterSec), ...rateLimitHeaders([{ policy: p, allowed: false, remaining: 0, resetSec: retryAfterSec }]) },
  })
}
