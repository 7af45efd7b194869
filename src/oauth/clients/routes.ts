import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ID_PATTERN } from '../../core/ids.ts'
import { ALL_SCOPES } from '../../access/scopes.ts'
import { Conditions, conditionsFromApi, type ConditionsInput } from '../../keys/schema.ts'
import { GRANT_TYPES, type NewClientInput, type OAuthClientService } from './service.ts'

const IdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false })
const ListQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
}, { additionalProperties: false })
const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  kind: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  application_type: Type.Optional(Type.Union([Type.Literal('web'), Type.Literal('native')])),
  token_endpoint_auth_method: Type.Optional(Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')])),
  grant_types: Type.Array(Type.Union(GRANT_TYPES.map((g) => Type.Literal(g))), { minItems: 1, maxItems: GRANT_TYPES.length }),
  scopes: Type.Array(Type.Union(ALL_SCOPES.map((s) => Type.Literal(s))), { minItems: 1, maxItems: ALL_SCOPES.length }),
  redirect_uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 10 })),
  environment: Type.Optional(Type.Union([Type.Literal('live'), Type.Literal('test')])),
  conditions: Type.Optional(Conditions),
}, { additionalProperties: false })

type CreateBodyT = {
  name: string; kind: 'confidential' | 'public'; application_type?: 'web' | 'native'
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post'
  grant_types: NewClientInput['grantTypes']; scopes: string[]; redirect_uris?: string[]; environment?: 'live' | 'test'
  conditions?: ConditionsInput
}

/** `/v1/oauth/clients`: register, list, read, delete clients; rotate a confidential client's secret. */
export function oauthClientRoutes(clients: OAuthClientService): FastifyPluginAsync {
  return async (app) => {
    // Clients carry an environment: listed and read only by their own; containment guards changes.
    const access = { scopes: ['oauth:manage'], environment: 'sealed' as const }
    // Minting or widening a credential: a fresh second factor for sessions.
    const mint = { ...access, stepUp: true }
    app.post('/v1/oauth/clients', { config: mint, schema: { body: CreateBody } }, async (req, reply) => {
      const b = req.body as CreateBodyT
      const created = await clients.create(req.principal!, {
        name: b.name, kind: b.kind, applicationType: b.application_type, tokenEndpointAuthMethod: b.token_endpoint_auth_method,
        grantTypes: b.grant_types, scopes: b.scopes, redirectUris: b.redirect_uris, environment: b.environment,
        conditions: conditionsFromApi(b.conditions),
      })
      return reply.code(201).header('cache-control', 'no-store').send(created)
    })
    app.get('/v1/oauth/clients', { config: access, schema: { querystring: ListQuery } }, async (req) => {
      const q = req.query as { after?: string; limit?: number }
      return { data: await clients.list(req.principal!.orgId, q, req.principal!.environment) }
    })
    app.get('/v1/oauth/clients/:id', { config: access, schema: { params: IdParams } }, async (req) =>
      clients.get(req.principal!.orgId, (req.params as { id: string }).id, req.principal!.environment))
    app.delete('/v1/oauth/clients/:id', { config: access, schema: { params: IdParams } }, async (req, reply) => {
      await clients.remove(req.principal!, (req.params as { id: string }).id)
      return reply.code(204).send()
    })
    app.post('/v1/oauth/clients/:id/secret', { config: mint, schema: { params: IdParams } }, async (req, reply) =>
      reply.header('cache-control', 'no-store').send(await clients.rotateSecret(req.principal!, (req.params as { id: string }).id)))
  }
}
