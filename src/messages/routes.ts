import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { MessageService, SendResult } from './service.ts'
import type { MessageReads } from './reads.ts'
import { SendBody, BatchBody, ListQuery, type SendInput, type ListInput } from './schema.ts'

const IdParams = Type.Object({ id: Type.String({ pattern: '^msg_[0-9a-hjkmnp-tv-z]{26}$' }) }, { additionalProperties: false })

export function messageRoutes(messages: MessageService, reads: MessageReads): FastifyPluginAsync {
  return async (app) => {
    const reply202 = (reply: any, r: SendResult, req: any) => {
      if (r.replayed) reply.header('idempotent-replayed', 'true')
      const body = r.body as { id?: string; data?: { id: string }[] }
      req.auditDetails = { message_ids: body.id ? [body.id] : (body.data ?? []).map((m) => m.id).slice(0, 500), replayed: r.replayed }
      return reply.code(r.statusCode).send(r.body)
    }
    app.post('/v1/messages', { config: { scopes: ['messages:send'], environment: 'sealed' }, schema: { body: SendBody } }, async (req, reply) =>
      reply202(reply, await messages.send(req.principal!, req.body as SendInput, req.headers['idempotency-key']), req))

    app.post('/v1/messages/batch', { config: { scopes: ['messages:send'], environment: 'sealed' }, schema: { body: BatchBody } }, async (req, reply) =>
      reply202(reply, await messages.sendBatch(req.principal!, (req.body as { messages: SendInput[] }).messages, req.headers['idempotency-key']), req))

    app.get('/v1/messages', { config: { scopes: ['messages:read'], environment: 'sealed' }, schema: { querystring: ListQuery } }, async (req) =>
      reads.list(req.principal!, req.query as ListInput))

    app.get('/v1/messages/:id', { config: { scopes: ['messages:read'], environment: 'sealed' }, schema: { params: IdParams } }, async (req) =>
      reads.get(req.principal!, (req.params as { id: string }).id))
  }
}
