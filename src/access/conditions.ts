import type { Clock } from '../core/clock.ts'
import type { AccessConditions, Principal } from '../core/principal.ts'
import type { ConditionCheck } from './authorize.ts'
import { cachedRange, inRange, parseClientIp } from './ip-ranges.ts'
import { inWindow } from './time-windows.ts'
import { senderAllowed } from './sender-domains.ts'
import { AppError } from '../core/errors.ts'

/**
 * ABAC conditions carried by a credential (a key's own, or a user's role), checked on every request
 * after its scopes. Each check returns a reason code that names the kind of condition, never its
 * value, so a denied caller learns nothing about the allowed ranges or hours:
 * - `ip_not_allowed`: the client IP (socket, or X-Forwarded-For from a trusted proxy) is outside `ipRanges`
 * - `outside_time_window`: now (injected Clock) is in none of `timeWindows`
 * - `environment_not_allowed`: the principal's environment is not in `environments`
 * - `sender_not_allowed`: a message's From is not admitted by `senderDomains` (checked at send time,
 *   not per request: only the send path knows the From; see assertSenderAllowed)
 * A condition that cannot be evaluated (a corrupt stored range) denies: fail closed.
 */
export const REASONS = {
  ip: 'ip_not_allowed',
  time: 'outside_time_window',
  environment: 'environment_not_allowed',
  sender: 'sender_not_allowed',
} as const

export function ipAllowed(conditions: AccessConditions, clientIp: string): boolean {
  if (!conditions.ipRanges) return true
  const addr = parseClientIp(clientIp)
  if (!addr) return false
  return conditions.ipRanges.some((text) => {
    const range = cachedRange(text)
    return range !== null && inRange(addr, range)
  })
}

export function timeAllowed(conditions: AccessConditions, at: Date): boolean {
  if (!conditions.timeWindows) return true
  return conditions.timeWindows.some((w) => {
    try { return inWindow(at, w) } catch { return false }
  })
}

export function environmentAllowed(conditions: AccessConditions, principal: Principal): boolean {
  return !conditions.environments || conditions.environments.includes(principal.environment)
}

/** The checks `createAuthorizeHook` runs, in order. */
export function createConditionChecks(deps: { clock: Clock }): ConditionCheck[] {
  return [
    (p, req) => (p.conditions && !ipAllowed(p.conditions, req.clientIp || req.ip) ? REASONS.ip : null),
    (p) => (p.conditions && !timeAllowed(p.conditions, deps.clock.now()) ? REASONS.time : null),
    (p) => (p.conditions && !environmentAllowed(p.conditions, p) ? REASONS.environment : null),
  ]
}

/** Send time: every From of a request (one message or a whole batch) must be admitted, or nothing is sent. */
export function assertSenderAllowed(principal: Principal, fromAddresses: readonly string[]): void {
  const patterns = principal.conditions?.senderDomains
  if (!patterns) return
  if (fromAddresses.every((a) => senderAllowed(patterns, a))) return
  throw new AppError('policy_denied', 'This request is not allowed by the credential policy.', { details: { reason: REASONS.sender } })
}
