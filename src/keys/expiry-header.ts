import type { Clock } from '../core/clock.ts'
import type { RequestHook } from '../http/pipeline.ts'
import type { KeyPolicy } from './policy.ts'

/**
 * Tells API-key callers when their key stops working, so nobody learns it from a 401:
 * - `Sealpost-Key-Expires: <RFC 3339 UTC>` on every response to a key that will expire (its own
 *   `expires_at`, the org's maximum age, or the end of a rotation grace window, whichever is first);
 * - `Sealpost-Key-Warning: expiring` as well once that moment is within the org's warning window
 *   (`keyExpiryWarningDays`, default 7): the cue for clients and monitors to rotate.
 * Custom names rather than `Warning` (obsoleted by RFC 9111) or `Deprecation` (about resources, not
 * credentials). Runs after authorization, so a refused request carries neither.
 */
export const KEY_EXPIRES_HEADER = 'sealpost-key-expires'
export const KEY_WARNING_HEADER = 'sealpost-key-warning'

export function createKeyExpiryHeaderHook(deps: { policy: KeyPolicy; clock: Clock }): RequestHook {
  return async (req, reply) => {
    const at = req.keyExpiresAt
    if (at === null || at === undefined || req.principal?.actor.type !== 'key') return
    reply.header(KEY_EXPIRES_HEADER, new Date(at).toISOString())
    const { warnBeforeMs } = await deps.policy.forOrg(req.principal.orgId)
    if (at - deps.clock.now().getTime() <= warnBeforeMs) reply.header(KEY_WARNING_HEADER, 'expiring')
  }
}
