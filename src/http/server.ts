import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { installErrorHandler } from './error-handler.ts'
import { installPipeline, type PipelineSteps } from './pipeline.ts'
import { loggerOptions } from './logger.ts'
import { installJsonBodyParser, type JsonOffload } from '../validation/json-body.ts'
import { installLoadShedding, type LoadSheddingOptions } from './load-shedding.ts'
import { clientErrorHandler } from './client-errors.ts'
import './types.ts'

export interface HttpOptions {
  logLevel: string
  logStream?: NodeJS.WritableStream
  bodyLimit: number
  trustedProxies: readonly string[]
  https?: { key: Buffer; cert: Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string } | null
  steps: PipelineSteps
  /** Domain route plugins, registered after the pipeline so every route gets its hooks. */
  routes: FastifyPluginAsync[]
  /** Installed before the pipeline, so its headers are on every response, a refused (401/403/429) one included. */
  securityHeaders?: (app: FastifyInstance) => Promise<void>
  /** Socket timeouts: a slow client (headers or body trickled) is cut with 408 (defaults: 30 s / 10 s / 72 s). */
  timeouts?: { requestMs: number; headersMs: number; keepAliveMs: number }
  /** 503 server_busy while the event loop is saturated (absent: off). */
  loadShedding?: LoadSheddingOptions
  /** Parse large JSON bodies off the event loop (absent: every body on the loop). */
  jsonOffload?: JsonOffload
  /** Plugins that need the raw app before routes (helmet, oauth mount...). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[]
}

export type App = FastifyInstance

export async function buildHttp(opts: HttpOptions): Promise<App> {
  const t = opts.timeouts ?? { requestMs: 30_000, headersMs: 10_000, keepAliveMs: 72_000 }
  const app = Fastify({
    logger: loggerOptions(opts.logLevel, opts.logStream),
    bodyLimit: opts.bodyLimit,
    // Signed link tokens (unsubscribe) are longer than Fastify's 100-char default.
    routerOptions: { maxParamLength: 256 },
    // proxy-addr semantics: X-Forwarded-For is believed only from these peers.
    trustProxy: opts.trustedProxies.length ? [...opts.trustedProxies] : false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID()
    },
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // Whole request (headers + body) within requestMs; Node checks every connectionsCheckingInterval.
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    // Socket inactivity (e.g. a client that stops reading a response): longer than any legitimate pause.
    connectionTimeout: Math.max(2 * t.requestMs, t.keepAliveMs + 1000),
    clientErrorHandler,
    ...(opts.https ? { https: { ...opts.https, allowHTTP1: true } as any } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>()

  const server = app.server as unknown as { headersTimeout: number; connectionsCheckingInterval: number }
  server.headersTimeout = t.headersMs
  // Node's default (30 s) would let a slow client keep its socket up to 30 s past the timeout.
  server.connectionsCheckingInterval = Math.max(250, Math.min(1000, Math.floor(t.headersMs / 4)))
  app.addHook('onSend', async (req, reply) => { reply.header('x-request-id', req.id) })
  installErrorHandler(app)
  if (opts.securityHeaders) await opts.securityHeaders(app)
  // Before authentication and body parsing: shedding must cost nothing.
  if (opts.loadShedding) installLoadShedding(app, opts.loadShedding)
  installJsonBodyParser(app, undefined, opts.jsonOffload)
  installPipeline(app, opts.steps)
  for (const p of opts.plugins ?? []) await p(app)
  for (const r of opts.routes) await app.register(r)
  await app.ready()
  return app
}
