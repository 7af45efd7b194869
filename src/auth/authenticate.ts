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
}

/** Non-bearer authenticators (session cookies) look at the whole request. */
export type RequestAuthenticator = (req: FastifyRequest) => Promise<Principal | null>

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/

export function createAuthenticateHook(bearers: Authenticator[], others: RequestAuthenticator[] = []): RequestHook {
  return async (req) => {
    const access = req.routeOptions.config
    const header = req.headers.authorization
    if (access?.public && !(access.optionalAuth && header)) return
    try {
      if (header !== undefined) {
        const m = BEARER.exec(header)
        if (!m) throw unauthenticated('malformed_authorization_header')
        const token = m[1]
        const auth = bearers.find((a) => a.matches(token))
        if (!auth) throw unauthenticated('unknown_token_type')
        req.principal = await auth.authenticate(token, req)
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
