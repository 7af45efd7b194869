/**
 * IETF draft-ietf-httpapi-ratelimit-headers (structured fields):
 *   RateLimit-Policy: "key";q=600;w=60, "org";q=1200;w=60
 *   RateLimit: "key";r=598;t=42, "org";r=1100;t=42
 * q quota, w window (s), r remaining, t seconds until reset.
 */
import type { Outcome } from './rate-limiter.ts'

export function rateLimitHeaders(outcomes: Outcome[]): Record<string, string> {
  if (!outcomes.length) return {}
  return {
    'ratelimit-policy': outcomes.map((o) => `"${o.policy.name}";q=${o.policy.points};w=${o.policy.windowSec}`).join(', '),
    ratelimit: outcomes.map((o) => `"${o.policy.name}";r=${o.remaining};t=${o.resetSec}`).join(', '),
  }
}
