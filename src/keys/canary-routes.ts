import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ID_PATTERN } from '../core/ids.ts'
import type { CanaryKeys } from './canary.ts'

const CreateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
const IdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false })

/** /v1/canary-keys: decoy keys, listed apart from real ones (keys/canary.ts). */
export function canaryKeyRoutes(canaries: CanaryKeys): FastifyPluginAsync {
  // Tripwires are live-only org security settings: setting one up or removing it needs a fresh second factor.
  const manage = { scopes: ['keys:manage'], environment: 'live-only' as const }
  const change = { ...manage, stepUp: true }
  const meta = (req: { clientIp?: string; ip: string; id: string }) => ({ ip: req.clientIp || req.ip, requestId: String(req.id) })
  return async (app) => {
    app.post('/v1/canary-keys', { config: change, schema: { body: CreateBody } }, async (req, reply) =>
      reply.code(201).header('cache-control', 'no-store').send(await canaries.create(req.principal!, req.body as { name: string }, meta(req))))
    app.get('/v1/canary-keys', { config: manage }, async (req) => canaries.list(req.principal!))
    app.delete('/v1/canary-keys/:id', { config: change, schema: { params: IdParams } }, async (req, reply) => {
      await canaries.remove(req.principal!, (req.params as { id: string }).id, meta(req))
      return reply.code(204).send()
    })
  }
}
