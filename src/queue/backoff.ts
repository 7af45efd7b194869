export interface BackoffPolicy {
  baseMs: number
  maxMs: number
}

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential with full
 * jitter above a floor of `baseMs`, so many jobs deferred together spread out, and a
 * receiver that asked us to wait is never retried sooner than the base delay.
 * `random` is injectable so tests can pin the jitter.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40)
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent)
  const floor = Math.min(policy.baseMs, ceiling)
  return Math.round(floor + random() * (ceiling - floor))
}
