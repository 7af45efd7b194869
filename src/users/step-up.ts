import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'

/**
 * Step-up: sensitive actions (create/rotate keys, change roles or policies,
 * export data, remove a second factor) need a second factor given within the
 * last few minutes, so a stolen or unattended session cannot do them.
 *
 * Applies to user sessions only. API keys and OAuth client tokens are machine
 * credentials with no human present to re-authenticate; they are limited by
 * their scopes and ABAC conditions instead. A session principal has
 * `actor.type === 'user'` and carries `mfaVerifiedAt`.
 *
 * Routes declare it (`config: { stepUp: true }`, http/types.ts) and the authorize step calls
 * `require` before the handler (access/authorize.ts), so there is one mechanism and a route-table
 * test lists every route that needs it. users/ still calls it for its own conditional cases
 * (removing a factor needs step-up only once one exists).
 *
 * @example
 *   app.post('/v1/keys', { config: { scopes: ['keys:manage'], environment: 'sealed', stepUp: true } }, ...)
 */
export const DEFAULT_STEP_UP_MS = 5 * 60_000

export function isStepUpFresh(principal: Principal, nowMs: number, windowMs = DEFAULT_STEP_UP_MS): boolean {
  if (principal.actor.type !== 'user') return true
  const at = principal.mfaVerifiedAt
  return typeof at === 'number' && nowMs - at < windowMs && at <= nowMs
}

export function requireStepUp(principal: Principal, nowMs: number, windowMs = DEFAULT_STEP_UP_MS): void {
  if (isStepUpFresh(principal, nowMs, windowMs)) return
  throw new AppError('step_up_required', 'Confirm it is you: verify a second factor (set one up first if you have none), then retry.', {
    details: { verify: '/v1/auth/mfa', withinSeconds: Math.round(windowMs / 1000) },
  })
}

export interface StepUp {
  readonly windowMs: number
  /** Throws `step_up_required` for a session principal whose last second factor is older than the window. */
  require(principal: Principal): void
  isFresh(principal: Principal): boolean
}

export function createStepUp(deps: { clock: Clock; windowMs?: number }): StepUp {
  const windowMs = deps.windowMs ?? DEFAULT_STEP_UP_MS
  return {
    windowMs,
    require: (p) => requireStepUp(p, deps.clock.now().getTime(), windowMs),
    isFresh: (p) => isStepUpFresh(p, deps.clock.now().getTime(), windowMs),
  }
}
