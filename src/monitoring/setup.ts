import { createServer, type Server } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/load.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { DeliveryQueue } from '../delivery/contract.ts'
import type { RequestHook, ResponseHook } from '../http/pipeline.ts'
import type { Db } from '../storage/db.ts'
import type { OutboundGuard } from '../net/guard.ts'
import { createMetrics, type Metrics, type MetricsSources } from './metrics.ts'
import { createEnforcement, type Enforcement } from './enforcement.ts'
import { createPolicyStore, type PolicyStore } from './policy.ts'
import { createNotifier, type AlertMailer } from './notifier.ts'
import { createResponder } from './responder.ts'
import { createAlertService, type AlertService } from './alerts.ts'
import { createResponseAdmin } from './admin.ts'
import { createMonitor, type Monitor, type DetectorTuning } from './monitor.ts'
import { monitoringRoutes } from './routes.ts'

export interface MonitoringDeps {
  config: Config
  db: Db
  clock: Clock
  audit: AuditRecorder
  cipher: FieldCipher
  /** The outbound guard (net/): alert webhook URLs are checked with it when set, and sent through it. */
  outbound: OutboundGuard
  queue?: Pick<DeliveryQueue, 'stats'> | null
  auditStats?: MetricsSources['audit']
  mailer?: AlertMailer | null
  credentialHint?: (authorization: string | undefined) => string | null
  resolveCredential?: (lookupId: string) => Promise<{ orgId: string; keyId: string } | null>
  onError?: (what: string, err: unknown) => void
  tuning?: DetectorTuning
  /** How often enforcement is re-read from the database (other processes' blocks, expiry). */
  refreshMs?: number
}

export interface Monitoring {
  monitor: Monitor
  alerts: AlertService
  enforcement: Enforcement
  metrics: Metrics
  policies: PolicyStore
  /** Pipeline steps: `beforeAuth` (global IP blocks), `guards` (org blocks, suspended and throttled keys), `onResponse`. */
  steps: { beforeAuth: RequestHook[]; guards: RequestHook[]; onResponse: ResponseHook[] }
  routes: FastifyPluginAsync
  /** Serves /metrics without a token on config.metrics.port (bind it to an internal address). */
  startMetricsListener(): Promise<Server | null>
  close(): Promise<void>
}

/** Metrics, detectors, alerts and automatic responses, built from the configuration. */
export async function setupMonitoring(deps: MonitoringDeps): Promise<Monitoring> {
  const { config, db, clock, audit } = deps
  const metrics = createMetrics({ queue: deps.queue, audit: deps.auditStats })
  const enforcement = createEnforcement({ db, clock })
  await enforcement.refresh()
  const policies = createPolicyStore({ db, cipher: deps.cipher, clock, outbound: deps.outbound })
  const notifier = createNotifier({ policies, clock, mailer: deps.mailer, outbound: deps.outbound })
  const responder = createResponder({ db, clock, audit, enforcement, notifier })
  const alerts = createAlertService({ db, clock, audit, policies, responder, onRaised: metrics.alertRaised })
  const admin = createResponseAdmin({ db, clock, audit, enforcement })
  const monitor = createMonitor({ clock, alerts, metrics, credentialHint: deps.credentialHint, resolveCredential: deps.resolveCredential, onError: deps.onError, tuning: deps.tuning, peekPolicy: (orgId) => policies.peek(orgId) })

  const timer = setInterval(() => { enforcement.refresh().catch((err) => deps.onError?.('monitoring: refreshing blocks failed', err)) }, deps.refreshMs ?? 5000)
  timer.unref()
  let listener: Server | null = null

  return {
    monitor, alerts, enforcement, metrics, policies,
    steps: { beforeAuth: [enforcement.globalIpGuard], guards: [enforcement.principalGuard], onResponse: [monitor.responseHook] },
    routes: monitoringRoutes({ alerts, admin, policies, metrics, metricsToken: config.metrics.token }),
    async startMetricsListener() {
      if (config.metrics.port === undefined) return null
      listener = createServer(async (req, res) => {
        if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') { res.writeHead(404).end(); return }
        try {
          const body = await metrics.registry.metrics()
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body)
        } catch (err) {
          deps.onError?.('monitoring: collecting metrics failed', err)
          res.writeHead(500).end()
        }
      })
      await new Promise<void>((resolve, reject) => listener!.once('error', reject).listen(config.metrics.port, config.metrics.host, resolve))
      return listener
    },
    async close() {
      clearInterval(timer)
      await monitor.settled()
      if (listener) await new Promise<void>((r) => listener!.close(() => r()))
    },
  }
}
