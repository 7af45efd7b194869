import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { CreateHoldInput, LegalHoldService } from './service.ts'

const strict = { additionalProperties: false }
const CreateHoldBody = Type.Object({
  scope: Type.Union([Type.Literal('organization'), Type.Literal('contact'), Type.Literal('messages')]),
  reason: Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
  contact_id: Type.Optional(Type.String({ pattern: '^con_[0-9a-hjkmnp-tv-z]{26}$' })),
  message_ids: Type.Optional(Type.Array(Type.String({ pattern: '^msg_[0-9a-hjkmnp-tv-z]{26}$' }), { minItems: 1, maxItems: 1000 })),
  tag: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
}, strict)
const HoldParams = Type.Object({ id: Type.String({ pattern: '^lgh_[0-9a-hjkmnp-tv-z]{26}$' }) }, strict)
const ListQuery = Type.Object({ include_released: Type.Optional(Type.Boolean()) }, strict)

export function legalHoldRoutes(holds: LegalHoldService): FastifyPluginAsync {
  return async (app) => {
    // Organization administration: live credentials only, and a fresh second factor for session users.
    const admin = { scopes: ['org:admin'], environment: 'live-only' as const, stepUp: true }
    const meta = (req: any) => ({ ip: req.clientIp, requestId: String(req.id) })
    app.post('/v1/legal-holds', { config: admin, schema: { body: CreateHoldBody } }, async (req, reply) =>
      reply.code(201).send(await holds.create(req.principal!, req.body as CreateHoldInput, meta(req))))
    app.get('/v1/legal-holds', { config: admin, schema: { querystring: ListQuery } }, async (req) =>
      holds.list(req.principal!, (req.query as { include_released?: boolean }).include_released ?? false))
    app.delete('/v1/legal-holds/:id', { config: admin, schema: { params: HoldParams } }, async (req) =>
      holds.release(req.principal!, (req.params as { id: string }).id, meta(req)))
  }
}
