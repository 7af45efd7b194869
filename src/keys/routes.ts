import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { KeyService, RequestMeta } from './service.ts'
import type { LeakedKeyService } from './leaked.ts'
import {
  CreateKeyBody, KeyIdParams, KeyList, KeyPolicyBody, KeyView, KeyWithSecret, LeakReportBody, ListKeysQuery, RotateKeyBody,
  type CreateKeyInput, type LeakReport,
} from './schema.ts'

const meta = (req: FastifyRequest): RequestMeta => ({ ip: req.clientIp || req.ip, requestId: req.id })
const idOf = (req: FastifyRequest) => (req.params as { id: string }).id

/** Reports come from scanners that find many tokens at once, so the limit is per IP and generous but finite. */
export const LEAK_REPORT_RATE_LIMIT = { points: 30, durationSec: 60 }

export function keyRoutes(deps: { keys: KeyService; leaked: LeakedKeyService }): FastifyPluginAsync {
  const { keys, leaked } = deps
  return async (app) => {
    // Keys carry an environment: the service lists and reads only the caller's, and containment guards changes.
    const manage = { scopes: ['keys:manage'], environment: 'sealed' as const }
    // Minting or widening a credential: a fresh second factor for sessions.
    const mint = { ...manage, stepUp: true }

    app.post('/v1/keys', { config: mint, schema: { body: CreateKeyBody, response: { 201: KeyWithSecret } } }, async (req, reply) =>
      reply.code(201).header('cache-control', 'no-store').send(await keys.create(req.principal!, req.body as CreateKeyInput, meta(req))))

    app.get('/v1/keys', { config: manage, schema: { querystring: ListKeysQuery, response: { 200: KeyList } } }, async (req) =>
      keys.list(req.principal!, req.query as { limit?: number; cursor?: string }))

    app.get('/v1/keys/policy', { config: { ...manage, environment: 'shared' } }, async (req) => keys.readPolicy(req.principal!))

    app.put('/v1/keys/policy', { config: { scopes: ['org:admin'], environment: 'live-only', stepUp: true }, schema: { body: KeyPolicyBody } }, async (req) =>
      keys.updatePolicy(req.principal!, req.body as { max_key_age_days?: number | null; key_expiry_warning_days?: number }, meta(req)))

    app.get('/v1/keys/:id', { config: manage, schema: { params: KeyIdParams, response: { 200: KeyView } } }, async (req) =>
      keys.get(req.principal!, idOf(req)))

    // The body is optional (defaults apply): an empty POST validates as `{}`.
    app.post('/v1/keys/:id/rotate', { config: mint, preValidation: async (req) => { req.body ??= {} }, schema: { params: KeyIdParams, body: RotateKeyBody, response: { 200: KeyWithSecret } } }, async (req, reply) =>
      reply.header('cache-control', 'no-store').send(await keys.rotate(req.principal!, idOf(req), (req.body ?? {}) as { grace_period_seconds?: number }, meta(req))))

    app.post('/v1/keys/:id/revoke', { config: manage, schema: { params: KeyIdParams, response: { 200: KeyView } } }, async (req) =>
      keys.revoke(req.principal!, idOf(req), meta(req)))

    app.post('/v1/keys/:id/reinstate', { config: mint, schema: { params: KeyIdParams, response: { 200: KeyView } } }, async (req) =>
      keys.reinstate(req.principal!, idOf(req), meta(req)))

    // Public by design: secret scanners report tokens they found; nothing here reveals whether one matched.
    app.post('/v1/keys/leaked', {
      config: { public: true, rateLimit: LEAK_REPORT_RATE_LIMIT, environment: 'any' },
      bodyLimit: 1024 * 1024,
      schema: { body: LeakReportBody },
    }, async (req, reply) => reply.code(202).send(await leaked.report(req.body as LeakReport, meta(req))))
  }
}
