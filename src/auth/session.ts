import type { FastifyRequest } from 'fastify'
import type { Principal } from '../core/principal.ts'
import type { RequestAuthenticator } from './authenticate.ts'

/**
 * What the session authenticator needs from users/ (wired in app.ts):
 * `load` reads the `__Host-sid` cookie, checks the session is live and, for
 * state-changing methods, the CSRF token and Origin; `principalOf` admits only a
 * session that finished sign-in (second factor given, or enrolled when required).
 */
export interface SessionSource<Ctx> {
  load(req: FastifyRequest): Promise<Ctx | null>
  principalOf(ctx: Ctx): Principal
}

/**
 * Browser sessions for organization routes. Runs after bearer credentials: a
 * request with an Authorization header never falls back to its cookie. Returns
 * null without a session cookie (next authenticator, or 401); throws for an
 * invalid or expired session (401), a failed CSRF check (403 csrf_failed) and a
 * session still owing its second factor (401 mfa_required).
 */
export function createSessionAuthenticator<Ctx>(source: SessionSource<Ctx>): RequestAuthenticator {
  return async (req) => {
    const ctx = await source.load(req)
    return ctx ? source.principalOf(ctx) : null
  }
}
