import type { FastifyRequest } from 'fastify'
import { unauthenticated } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { RequestHook } from '../http/pipeline.ts'

/**
 * Resolves a bearer credential to a Principal. Returns null when the token is
 * not of its kind (so the next authenticator may try); throws `unauthenticated`
 * when it is of its kind but invalid.
 */
export interface Authenticator {
  name: string
  matches(token: string): boolean
  authenticate(token: string, req: FastifyRequest): Promise<Principal>
  /** `Authorization: DPoP <token>` (RFC 9449): the token plus the request's `DPoP` proof header. */
  authenticateDPoP?(token: string, req: FastifyRequest): Promise<Principal>
}

/** Non-bearer authenticators (session cookies) look at the whole request. */
export type RequestAuthenticator = (req: FastifyRequest) => Promise<Principal | null>

const CREDENTIAL = /^(Bearer|DPoP) ([\x21-\x7e]{1,4096})$/

export function createAuthenticateHook(bearers: Authenticator[], others: RequestAuthenticator[] = []): RequestHook {
  return async (req) => {
    const access = req.routeOptions.config
    const header = req.headers.authorization
    if (access?.public && !(access.optionalAuth && header)) return
    try {
      if (header !== undefined) {
        const m = CREDENTIAL.exec(header)
        if (!m) throw unauthenticated('malformed_authorization_header')
        const [, scheme, token] = m
        const auth = bearers.find((a) => a.matches(token))
        if (!auth) throw unauthenticated('unknown_token_type')
        if (scheme === 'DPoP' && !auth.authenticateDPoP) throw unauthenticated('dpop_unsupported_for_token_type')
        req.principal = scheme === 'DPoP' ? await auth.authenticateDPoP!(token, req) : await auth.authenticate(token, req)
        return
      }
      for (const other of others) {
        const p = await other(req)
        if (p) { req.principal = p; return }
      }
      throw unauthenticated('missing_credentials')
    } catch (e) {
      req.authFailure = String((e as Error).cause ?? (e as Error).message)
      throw e
    }
  }
}
