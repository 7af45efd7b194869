import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ID_PATTERN } from '../core/ids.ts'
import type { DomainService } from './service.ts'

const IdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false })
const CreateBody = Type.Object({
  name: Type.String({ minLength: 3, maxLength: 253 }),
  dkim_algorithm: Type.Optional(Type.Union([Type.Literal('rsa'), Type.Literal('ed25519')])),
}, { additionalProperties: false })

export function domainRoutes(domains: DomainService): FastifyPluginAsync {
  return async (app) => {
    // Domains are shared by both environments (live mail signs with them): test principals may only read them.
    const access = { scopes: ['domains:manage'], environment: 'live-only' as const }
    const read = { ...access, environment: 'shared' as const }
    app.post('/v1/domains', { config: access, schema: { body: CreateBody } }, async (req, reply) =>
      reply.code(201).send(await domains.create(req.principal!, req.body as any)))
    app.get('/v1/domains', { config: read }, async (req) => ({ data: await domains.list(req.principal!) }))
    app.get('/v1/domains/:id', { config: read, schema: { params: IdParams } }, async (req) =>
      domains.get(req.principal!, (req.params as { id: string }).id))
    app.post('/v1/domains/:id/verify', { config: access, schema: { params: IdParams } }, async (req) =>
      domains.verify(req.principal!, (req.params as { id: string }).id))
    app.delete('/v1/domains/:id', { config: access, schema: { params: IdParams } }, async (req, reply) => {
      await domains.remove(req.principal!, (req.params as { id: string }).id)
      return reply.code(204).send()
    })
  }
}
