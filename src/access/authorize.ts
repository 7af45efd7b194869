import { AppError } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { FastifyRequest } from 'fastify'
import type { RequestHook } from '../http/pipeline.ts'

/** ABAC: returns a reason code when the principal's conditions refuse this request. */
export type ConditionCheck = (principal: Principal, req: FastifyRequest) => string | null

export function hasScopes(principal: Principal, required: readonly string[]): boolean {
  return required.every((s) => principal.scopes.includes(s))
}

export interface AuthorizeOptions {
  /** users/ step-up: throws `step_up_required` for a session principal whose second factor is stale (others pass). */
  stepUp?: (principal: Principal) => void
}

/**
 * The one place where a route's declarations are enforced, in this order:
 *   1. scopes (all required)                                   403 insufficient_scope
 *   2. the credential's ABAC conditions                        403 policy_denied
 *   3. environment: `live-only` routes refuse test principals  403 environment_denied
 *      (`sealed` routes are confined by their service, `shared` and `any` admit both)
 *   4. `stepUp: true`: a fresh second factor for sessions      403 step_up_required
 * All before the handler, so a refused caller learns nothing about the object it named.
 */
export function createAuthorizeHook(conditions: ConditionCheck[] = [], opts: AuthorizeOptions = {}): RequestHook {
  return async (req) => {
    const access = req.routeOptions.config
    const principal = req.principal
    if (access?.public && !principal) return
    if (!principal) throw new AppError('unauthenticated', 'Missing or invalid credentials.')
    const required = access?.scopes ?? []
    if (!hasScopes(principal, required)) {
      throw new AppError('insufficient_scope', 'This credential is not allowed to do this.', { details: { required } })
    }
    for (const check of conditions) {
      const reason = check(principal, req)
      if (reason) throw new AppError('policy_denied', 'This request is not allowed by the credential policy.', { details: { reason } })
    }
    if (access?.environment === 'live-only' && principal.environment !== 'live') {
      throw new AppError('environment_denied', 'Test-environment credentials cannot do this; use a live credential.', { details: { environment: principal.environment } })
    }
    if (access?.stepUp) {
      if (!opts.stepUp) throw new AppError('internal', 'Step-up is declared but not configured.')
      opts.stepUp(principal)
    }
  }
}
