import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ID_PATTERN } from '../core/ids.ts'
import { checkOrigin } from '../users/csrf.ts'
import { metaOf as meta } from '../users/routes/context.ts'
import { MAX_PASSWORD_LENGTH } from '../users/password.ts'
import type { PasswordReset } from './password-reset.ts'
import type { SystemMailLog } from './service.ts'

const strict = { additionalProperties: false } as const
const ResetBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }) }, strict)
const ConfirmBody = Type.Object({
  token: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
}, strict)
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  cursor: Type.Optional(Type.String({ pattern: ID_PATTERN })),
}, strict)

/** Per client IP, on top of the per-recipient cap in sender.ts: a public form must not become a mail cannon. */
export const PASSWORD_RESET_RATE_LIMIT = { points: 10, durationSec: 60 }

export function systemMailRoutes(deps: { reset: PasswordReset; log: SystemMailLog; allowedOrigins: readonly string[] }): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/auth/password-reset', { config: { public: true, environment: 'any', rateLimit: PASSWORD_RESET_RATE_LIMIT }, schema: { body: ResetBody } }, async (req, reply) => {
      checkOrigin(req, deps.allowedOrigins)
      deps.reset.request((req.body as { email: string }).email, meta(req))
      return reply.code(202).send({ status: 'accepted' })
    })

    app.post('/v1/auth/password-reset/confirm', { config: { public: true, environment: 'any', rateLimit: PASSWORD_RESET_RATE_LIMIT }, schema: { body: ConfirmBody } }, async (req) => {
      checkOrigin(req, deps.allowedOrigins)
      const body = req.body as { token: string; password: string }
      await deps.reset.confirm(body.token, body.password, meta(req))
      return { status: 'password_changed' }
    })

    // What Sealpost mailed on this organization's behalf (invitations, alerts): kinds and delivery status, never content.
    app.get('/v1/system-mail', { config: { scopes: ['org:admin'], environment: 'live-only' }, schema: { querystring: ListQuery } }, async (req) =>
      deps.log.list(req.principal!, req.query as { limit?: number; cursor?: string }))
  }
}
