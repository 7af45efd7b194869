import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { CreateWebhookInput, UpdateWebhookInput, WebhookService } from './service.ts'
import {
  AttemptList, CreateWebhookBody, PageQuery, RotateSecretBody, UpdateWebhookBody, WebhookIdParams, WebhookList, WebhookView, WebhookWithSecret,
} from './schema.ts'

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id
type Page = { limit?: number; cursor?: string }

/** /v1/webhooks: thin handlers; the signing secret is in a response only at creation and rotation (no-store). */
export function webhookRoutes(webhooks: WebhookService): FastifyPluginAsync {
  return async (app) => {
    const config = { scopes: ['webhooks:manage'], environment: 'sealed' as const }

    app.post('/v1/webhooks', { config, schema: { body: CreateWebhookBody, response: { 201: WebhookWithSecret } } }, async (req, reply) =>
      reply.code(201).header('cache-control', 'no-store').send(await webhooks.create(req.principal!, req.body as CreateWebhookInput)))

    app.get('/v1/webhooks', { config, schema: { querystring: PageQuery('whk'), response: { 200: WebhookList } } }, async (req) =>
      webhooks.list(req.principal!, req.query as Page))

    app.get('/v1/webhooks/:id', { config, schema: { params: WebhookIdParams, response: { 200: WebhookView } } }, async (req) =>
      webhooks.get(req.principal!, idOf(req)))

    app.patch('/v1/webhooks/:id', { config, schema: { params: WebhookIdParams, body: UpdateWebhookBody, response: { 200: WebhookView } } }, async (req) =>
      webhooks.update(req.principal!, idOf(req), req.body as UpdateWebhookInput))

    app.delete('/v1/webhooks/:id', { config, schema: { params: WebhookIdParams } }, async (req, reply) => {
      await webhooks.remove(req.principal!, idOf(req))
      return reply.code(204).send()
    })

    // The body is optional: an empty POST validates as `{}`.
    app.post('/v1/webhooks/:id/rotate-secret', { config, preValidation: async (req) => { req.body ??= {} }, schema: { params: WebhookIdParams, body: RotateSecretBody, response: { 200: WebhookWithSecret } } }, async (req, reply) =>
      reply.header('cache-control', 'no-store').send(await webhooks.rotateSecret(req.principal!, idOf(req))))

    app.get('/v1/webhooks/:id/deliveries', { config, schema: { params: WebhookIdParams, querystring: PageQuery('wha'), response: { 200: AttemptList } } }, async (req) =>
      webhooks.deliveries(req.principal!, idOf(req), req.query as Page))
  }
}
