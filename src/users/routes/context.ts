import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { AppError, unauthenticated } from '../../core/errors.ts'
import { readSessionToken, sessionCookie } from '../cookie.ts'
import { checkCsrf } from '../csrf.ts'
import type { RequestMeta } from '../deps.ts'
import { stageError, type SessionContext, type SessionGate } from '../gate.ts'
import type { SessionManager } from '../sessions.ts'

/** What routes need to resolve a browser session. */
export interface SessionHttp {
  gate: SessionGate
  sessions: SessionManager
  allowedOrigins: readonly string[]
}

/**
 * The session behind a request's cookie, with CSRF checked for state-changing
 * methods. Null without a cookie; `unauthenticated` for an unknown, revoked or
 * timed-out one.
 */
export async function loadSession(http: SessionHttp, req: FastifyRequest): Promise<SessionContext | null> {
  const token = readSessionToken(req.headers.cookie)
  if (!token) {
    if (req.headers.cookie?.includes('__Host-sid=')) throw unauthenticated('malformed_session_cookie')
    return null
  }
  const ctx = await http.gate.load(token)
  if (!ctx) throw unauthenticated('session_expired_or_revoked')
  checkCsrf(req, token, http.sessions, http.allowedOrigins)
  return ctx
}

const contexts = new WeakMap<FastifyRequest, SessionContext>()

/**
 * Route-level hook for self-service routes: a session at `level` or 401/`mfa_required`/
 * 403 `password_change_required`. `password` admits a full session and one that signed in
 * with a one-time password (the password change itself).
 */
export function requireSession(http: SessionHttp, level: 'any' | 'password' | 'full'): onRequestHookHandler {
  return async (req) => {
    let ctx: SessionContext | null
    try {
      ctx = await loadSession(http, req)
    } catch (e) {
      req.authFailure = String((e as Error).cause ?? (e as Error).message)
      throw e
    }
    if (!ctx) {
      req.authFailure = 'missing_session'
      throw unauthenticated('missing_session')
    }
    if (level !== 'any' && ctx.stage !== 'full' && !(level === 'password' && ctx.stage === 'password')) throw stageError(ctx.stage)
    contexts.set(req, ctx)
  }
}

export function sessionOf(req: FastifyRequest): SessionContext {
  const ctx = contexts.get(req)
  if (!ctx) throw new Error('route is missing requireSession')
  return ctx
}

export const metaOf = (req: FastifyRequest): RequestMeta => ({ ip: req.clientIp || req.ip, userAgent: String(req.headers['user-agent'] ?? ''), requestId: req.id })

/** Sets the (new) session cookie; responses that carry one must never be cached. */
export function setSession(reply: FastifyReply, token: string): FastifyReply {
  return reply.header('set-cookie', sessionCookie(token)).header('cache-control', 'no-store')
}
