import { AppError } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { FastifyRequest } from 'fastify'
import type { RequestHook } from '../http/pipeline.ts'

/** ABAC: returns a reason code when the principal's conditions refuse this request. */
export type ConditionCheck = (principal: Principal, req: FastifyRequest) => string | null

export function hasScopes(principal: Principal, required: readonly string[]): boolean {
  return required.every((s) => principal.scopes.includes(s))
}

/**
 * Enforces the route's declared scopes (all required) and the credential's
 * conditions. Denials are 403 with a reason code that does not reveal the policy.
 */
export function createAuthorizeHook(conditions: ConditionCheck[] = []): RequestHook {
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
  }
}
