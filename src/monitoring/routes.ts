import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { safeEqual } from '../core/constant-time.ts'
import { Type } from 'typebox'
import { AppError, unauthenticated } from '../core/errors.ts'
import type { AlertService } from './alerts.ts'
import type { ResponseAdmin } from './admin.ts'
import type { PolicyStore } from './policy.ts'
import type { Metrics } from './metrics.ts'
import { ACTIONS, RULE_NAMES } from './rules.ts'

const id = (prefix: string) => Type.Object({ id: Type.String({ pattern: `^${prefix}_[0-9a-hjkmnp-tv-z]{26}$` }) }, { additionalProperties: false })
const AlertQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')])),
  severity: Type.Optional(Type.Union(['low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s)))),
  rule: Type.Optional(Type.Union(RULE_NAMES.map((r) => Type.Literal(r)))),
  cursor: Type.Optional(Type.String({ pattern: '^alr_[0-9a-hjkmnp-tv-z]{26}$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
}, { additionalProperties: false })
const RulePolicyBody = Type.Object({
  actions: Type.Array(Type.Union(ACTIONS.map((a) => Type.Literal(a))), { maxItems: ACTIONS.length, uniqueItems: true }),
  blockMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 43_200 })),
  throttleMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 43_200 })),
}, { additionalProperties: false })
const PolicyBody = Type.Object({
  rules: Type.Optional(Type.Object(Object.fromEntries(RULE_NAMES.map((r) => [r, Type.Optional(RulePolicyBody)])), { additionalProperties: false })),
  webhookUrl: Type.Optional(Type.Union([Type.String({ minLength: 8, maxLength: 2048 }), Type.Null()])),
  rotateWebhookSecret: Type.Optional(Type.Boolean({ description: 'A new (Standard Webhooks) signing secret for the current webhook URL, shown once.' })),
  emails: Type.Optional(Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 20, uniqueItems: true })),
}, { additionalProperties: false })

const meta = (req: FastifyRequest) => ({ ip: req.clientIp || req.ip, requestId: String(req.id) })

export interface MonitoringRouteDeps { alerts: AlertService; admin: ResponseAdmin; policies: PolicyStore; metrics: Metrics; metricsToken?: string }

export function monitoringRoutes(deps: MonitoringRouteDeps): FastifyPluginAsync {
  const { alerts, admin, policies } = deps
  return async (app) => {
    // Alerts and automatic responses guard the whole organization: live credentials only.
    const manage = { scopes: ['alerts:manage'], environment: 'live-only' as const }
    app.get('/v1/alerts', { config: manage, schema: { querystring: AlertQuery } }, async (req) => alerts.list(req.principal!, req.query as any))
    app.get('/v1/alerts/policy', { config: manage }, async (req) => policies.view(req.principal!.orgId))
    app.put('/v1/alerts/policy', { config: { scopes: ['org:admin'], environment: 'live-only', stepUp: true }, schema: { body: PolicyBody } }, async (req, reply) => {
      const { view, webhookSecret } = await policies.set(req.principal!.orgId, req.body as any, `${req.principal!.actor.type}:${req.principal!.actor.id}`)
      req.auditDetails = { rulesChanged: Object.keys((req.body as any).rules ?? {}), webhookChanged: webhookSecret !== null }
      // The signing secret is shown once, when the webhook is set.
      if (webhookSecret) reply.header('cache-control', 'no-store')
      return webhookSecret ? { ...view, webhookSecret } : view
    })
    app.get('/v1/alerts/:id', { config: manage, schema: { params: id('alr') } }, async (req) => alerts.get(req.principal!, (req.params as any).id))
    app.post('/v1/alerts/:id/acknowledge', { config: manage, schema: { params: id('alr') } }, async (req) =>
      alerts.acknowledge(req.principal!, (req.params as any).id, meta(req)))
    app.post('/v1/alerts/:id/resolve', { config: manage, schema: { params: id('alr') } }, async (req) =>
      alerts.resolve(req.principal!, (req.params as any).id, meta(req)))

    app.get('/v1/ip-blocks', { config: manage }, async (req) => admin.listIpBlocks(req.principal!))
    app.delete('/v1/ip-blocks/:id', { config: { ...manage, stepUp: true }, schema: { params: id('ipb') } }, async (req, reply) => {
      await admin.liftIpBlock(req.principal!, (req.params as any).id, meta(req))
      return reply.code(204).send()
    })

    // POST /v1/keys/:id/reinstate is served by keys/ (one route, one audit event: key.reinstated).

    // Prometheus: public to the scope check, protected by its own bearer token; absent without one.
    app.get('/metrics', { config: { public: true } }, async (req, reply) => {
      if (!deps.metricsToken) throw new AppError('not_found', 'No route GET /metrics.')
      if (!safeEqual(req.headers.authorization ?? '', `Bearer ${deps.metricsToken}`)) {
        req.authFailure = 'bad_metrics_token'
        throw unauthenticated('bad_metrics_token')
      }
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
    })
  }
}

