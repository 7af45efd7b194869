/** Time is injected so rotation windows, expiry and retention are testable without sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export interface TestClock extends Clock {
  set(at: Date | string): void
  advance(ms: number): void
}

export function createTestClock(start: Date | string = '2026-01-01T00:00:00Z'): TestClock {
  let t = new Date(start).getTime()
  return {
    now: () => new Date(t),
    set: (at) => { t = new Date(at).getTime() },
    advance: (ms) => { t += ms },
  }
}

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
