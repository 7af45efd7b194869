import type { FastifyPluginAsync } from 'fastify'
import { AppError } from '../../core/errors.ts'
import { clearedSessionCookie } from '../cookie.ts'
import type { AuthService } from '../service.ts'
import type { SessionManager } from '../sessions.ts'
import { metaOf, requireSession, sessionOf, type SessionHttp } from './context.ts'
import { IdParams, RevokeAllBody } from './schema.ts'

/** /v1/sessions: the user's own active sessions; revoke one, or sign out everywhere. */
export function sessionRoutes(deps: { http: SessionHttp; sessions: SessionManager; auth: AuthService }): FastifyPluginAsync {
  const { http, sessions, auth } = deps
  const full = { config: { public: true, session: 'full' as const, environment: 'any' as const }, onRequest: requireSession(http, 'full') }
  return async (app) => {
    app.get('/v1/sessions', full, async (req) => {
      const ctx = sessionOf(req)
      const rows = await sessions.list(ctx.session.user_id)
      return {
        data: rows.map((s) => ({
          id: s.id, current: s.id === ctx.session.id, orgId: s.org_id, createdAt: s.created_at, lastSeenAt: s.last_seen_at,
          mfaVerifiedAt: s.mfa_verified_at, ip: s.ip, userAgent: s.user_agent,
        })),
      }
    })

    // Another user's session id behaves like a missing one (the store is scoped to the caller).
    app.delete('/v1/sessions/:id', { ...full, schema: { params: IdParams } }, async (req, reply) => {
      const ctx = sessionOf(req)
      const id = (req.params as { id: string }).id
      if ((await sessions.revoke(ctx.session.user_id, id)) === 0) throw new AppError('not_found', 'Session not found.')
      if (id === ctx.session.id) reply.header('set-cookie', clearedSessionCookie())
      return reply.code(204).send()
    })

    /** Logout everywhere (optionally keeping this browser signed in). */
    // The body is optional: an empty POST validates as `{}`.
    app.post('/v1/sessions/revoke-all', { ...full, preValidation: async (req) => { req.body ??= {} }, schema: { body: RevokeAllBody } }, async (req, reply) => {
      const ctx = sessionOf(req)
      const keep = (req.body as { keepCurrent?: boolean }).keepCurrent === true
      const revoked = await auth.logout(ctx, metaOf(req), keep ? 'others' : 'all')
      if (!keep) reply.header('set-cookie', clearedSessionCookie())
      return reply.send({ revoked })
    })
  }
}
