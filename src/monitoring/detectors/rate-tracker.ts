/**
 * Counts events per fixed window and learns a baseline: an exponentially
 * weighted moving average (EWMA) of the counts of past windows, idle windows
 * included (as zeros), so the baseline follows recent traffic.
 */
export interface RateState {
  windowStart: number
  count: number
  /** EWMA of completed windows' counts. */
  baseline: number
  /** Completed windows seen (learning period). */
  windows: number
  /** The window in which this subject last raised a signal (one signal per window). */
  firedWindow: number
}

export const newRateState = (): RateState => ({ windowStart: -1, count: 0, baseline: 0, windows: 0, firedWindow: -1 })

export interface RateOptions {
  windowMs: number
  /** Weight of the newest window in the EWMA (0..1); small values learn slowly and resist being poisoned by the spike itself. */
  alpha: number
}

/** Moves the state to the window containing `at`, folding finished windows into the baseline. */
export function advance(s: RateState, at: number, o: RateOptions): void {
  const start = at - (at % o.windowMs)
  if (s.windowStart < 0) { s.windowStart = start; return }
  if (start <= s.windowStart) return
  const elapsed = Math.round((start - s.windowStart) / o.windowMs)
  // The finished window, then any idle windows (zeros), capped: after a long silence the baseline is ~0 anyway.
  s.baseline = s.windows === 0 ? s.count : o.alpha * s.count + (1 - o.alpha) * s.baseline
  const idle = Math.min(elapsed - 1, 1000)
  if (idle > 0) s.baseline *= (1 - o.alpha) ** idle
  s.windows += Math.min(elapsed, 1000)
  s.count = 0
  s.windowStart = start
}

export function record(s: RateState, at: number, o: RateOptions, n = 1): void {
  advance(s, at, o)
  s.count += n
}

/** True once per window when the current count is far above the learned baseline. */
export function isSpike(s: RateState, t: { minCount: number; factor: number; minWindows: number }): boolean {
  if (s.firedWindow === s.windowStart) return false
  if (s.windows < t.minWindows) return false
  if (s.count < Math.max(t.minCount, t.factor * s.baseline)) return false
  s.firedWindow = s.windowStart
  return true
}
