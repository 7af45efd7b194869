import type { Clock } from '../core/clock.ts'

export interface ThrottleOptions {
  /** Messages in flight to one destination at once (also the pool's connection cap). */
  maxConcurrent: number
  /** Messages per minute to one destination. */
  perMinute: number
  clock: Clock
}

export type Acquired = { ok: true; release(): void } | { ok: false; retryAt: number }

export interface DomainThrottle {
  tryAcquire(destination: string): Acquired
  /** Destinations this process cannot send more to right now: left out of the next claim. */
  saturated(): string[]
}

interface Bucket { active: number; tokens: number; at: number }

/**
 * Per-destination limits in this process: a concurrency cap and a token bucket refilled at
 * `perMinute` with a burst of ten seconds' worth, so a receiver sees a steady rate rather
 * than a minute's quota at once. (Pauses after 421/451 live in the queue, shared by all workers.)
 */
export function createDomainThrottle(opts: ThrottleOptions): DomainThrottle {
  const buckets = new Map<string, Bucket>()
  const ratePerMs = opts.perMinute / 60_000
  const burst = Math.max(1, Math.ceil(opts.perMinute / 6))

  function bucket(key: string, now: number): Bucket {
    let b = buckets.get(key)
    if (!b) {
      b = { active: 0, tokens: burst, at: now }
      buckets.set(key, b)
    }
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * ratePerMs)
    b.at = now
    return b
  }

  return {
    tryAcquire(key) {
      const now = opts.clock.now().getTime()
      const b = bucket(key, now)
      if (b.tokens < 1) return { ok: false, retryAt: now + Math.ceil((1 - b.tokens) / ratePerMs) }
      if (b.active >= opts.maxConcurrent) return { ok: false, retryAt: now }
      b.tokens -= 1
      b.active += 1
      let released = false
      return {
        ok: true,
        release() {
          if (released) return
          released = true
          b.active -= 1
        },
      }
    },
    saturated() {
      const now = opts.clock.now().getTime()
      const out: string[] = []
      for (const key of buckets.keys()) {
        const b = bucket(key, now)
        if (b.active >= opts.maxConcurrent || b.tokens < 1) out.push(key)
        // Idle and refilled: forget it, so the map only holds destinations in use.
        else if (b.active === 0 && b.tokens >= burst) buckets.delete(key)
      }
      return out
    },
  }
}

/** Through a relay there is one destination, ours or contracted: only its pool's connection cap applies. */
export const unthrottled: DomainThrottle = {
  tryAcquire: () => ({ ok: true, release() {} }),
  saturated: () => [],
}
