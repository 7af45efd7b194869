import type { FastifyInstance, FastifyRequest, FastifyReply, onRequestHookHandler, onResponseHookHandler } from 'fastify'
import { AppError } from '../core/errors.ts'
import { ENVIRONMENT_RULES, type RouteAccess } from './types.ts'

export type RequestHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>
export type ResponseHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void> | void

export interface DeclaredRoute { method: string; url: string; config: RouteAccess }

export interface PipelineSteps {
  /** Before anything else: blocked client IPs (monitoring/), so a blocked attacker costs no auth work. */
  beforeAuth?: RequestHook[]
  authenticate: RequestHook
  rateLimit?: RequestHook
  authorize: RequestHook
  /** After authorization: per-request guards such as key suspension or IP blocks. */
  guards?: RequestHook[]
  onResponse?: ResponseHook[]
}

/** Query parameters that look like credentials are refused before anything else. */
const CREDENTIAL_PARAM = /^(api[_-]?key|key|access[_-]?token|token|auth|authorization|bearer)$/i
const KEY_SHAPE = /sp_(live|test)_[A-Za-z0-9_]{20,}/

export const rejectKeyInQuery: RequestHook = async (req) => {
  const q = req.url.indexOf('?')
  if (q < 0) return
  const query = req.url.slice(q + 1)
  let decoded = query
  try { decoded = decodeURIComponent(query) } catch { /* keep raw */ }
  const params = new URLSearchParams(query)
  const named = [...params.keys()].some((k) => CREDENTIAL_PARAM.test(k))
  if (named || KEY_SHAPE.test(decoded)) {
    req.authFailure = 'credential_in_query'
    throw new AppError('key_in_query', 'Credentials are accepted only in the Authorization header, never in the URL. Treat this key as exposed and rotate it.')
  }
}

/**
 * Every request goes through these, in this order:
 *   onRoute    boot fails if a route declares neither scopes nor public, or a /v1 route no environment rule
 *   onRequest  before-auth guards (blocked client IP → 403)
 *   onRequest  reject credentials in the query string (400) before any body is read
 *   onRequest  authenticate → request.principal, or 401
 *   onRequest  rate limit (key / org / IP) → 429 + Retry-After
 *   onRequest  authorize: declared scopes, ABAC, environment rule, step-up → 403
 *   onRequest  guards (suspended key, blocked IP)
 *   then Fastify's schema validation (unknown fields refused) → 400, then the handler
 *   onResponse audit, metrics, anomaly detectors
 */
export function installPipeline(app: FastifyInstance, steps: PipelineSteps): void {
  app.decorateRequest('principal', null)
  app.decorateRequest('authFailure', null)
  app.decorateRequest('auditDetails', null)
  app.decorateRequest('clientIp', '')
  app.decorateRequest('keyExpiresAt', null)

  // Every declared route, for tests that walk the whole table (every-route, role x route, cross-tenant).
  const routeTable: DeclaredRoute[] = []
  app.decorate('routeTable', routeTable)
  app.addHook('onRoute', (route) => {
    const cfg = route.config as { scopes?: unknown; public?: unknown } | undefined
    if (!cfg?.public && !(Array.isArray(cfg?.scopes) && cfg.scopes.length > 0)) {
      throw new Error(`route ${route.method} ${route.url} declares neither config.scopes nor config.public`)
    }
    // The sandbox rule is a decision per API route, like its scopes: no default to forget.
    const env = (route.config as { environment?: unknown } | undefined)?.environment
    const isV1 = route.url === '/v1' || route.url.startsWith('/v1/')
    if ((isV1 || env !== undefined) && !ENVIRONMENT_RULES.includes(env as never)) {
      throw new Error(`route ${route.method} ${route.url} must declare config.environment (${ENVIRONMENT_RULES.join(' | ')})`)
    }
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url, config: { ...route.config } })
  })
  app.addHook('onRequest', async (req) => { req.clientIp = req.ip })
  for (const g of steps.beforeAuth ?? []) app.addHook('onRequest', g as onRequestHookHandler)
  app.addHook('onRequest', rejectKeyInQuery as onRequestHookHandler)
  app.addHook('onRequest', steps.authenticate as onRequestHookHandler)
  if (steps.rateLimit) app.addHook('onRequest', steps.rateLimit as onRequestHookHandler)
  app.addHook('onRequest', steps.authorize as onRequestHookHandler)
  for (const g of steps.guards ?? []) app.addHook('onRequest', g as onRequestHookHandler)
  for (const h of steps.onResponse ?? []) app.addHook('onResponse', h as onResponseHookHandler)
}
