import type { FastifyRequest, FastifyReply } from 'fastify'
import type { Clock } from '../core/clock.ts'
import type { DeliveryOutcome } from '../delivery/contract.ts'
import type { ResponseHook } from '../http/pipeline.ts'
import type { AlertService } from './alerts.ts'
import type { Metrics } from './metrics.ts'
import type { RequestObservation, Signal } from './detectors/signal.ts'
import { createAuthFailureDetector, AUTH_FAILURE_DEFAULTS, type AuthFailureOptions } from './detectors/auth-failures.ts'
import { createIpRangeDetector, IP_RANGE_DEFAULTS, type IpRangeOptions } from './detectors/ip-ranges.ts'
import { createVolumeDetector, VOLUME_DEFAULTS, type VolumeOptions } from './detectors/volume.ts'
import { createOffHoursDetector, OFF_HOURS_DEFAULTS, type OffHoursOptions } from './detectors/off-hours.ts'
import { createDeliveryRateDetector, DELIVERY_RATE_DEFAULTS, type DeliveryRateOptions, type DeliveryFeedback } from './detectors/delivery-rates.ts'

export interface DetectorTuning {
  authFailures?: Partial<AuthFailureOptions>
  ipRanges?: Partial<IpRangeOptions>
  volume?: Partial<VolumeOptions>
  offHours?: Partial<OffHoursOptions>
  deliveryRates?: Partial<DeliveryRateOptions>
}

export interface MonitorDeps {
  clock: Clock
  alerts: AlertService
  metrics: Metrics
  /** The public lookup id of a presented credential (keys/ knows the format). */
  credentialHint?: (authorization: string | undefined) => string | null
  /** Which key and organization a lookup id belongs to, to attribute failures against a real key. */
  resolveCredential?: (lookupId: string) => Promise<{ orgId: string; keyId: string } | null>
  onError?: (what: string, err: unknown) => void
  tuning?: DetectorTuning
  peekPolicy?: (orgId: string) => unknown
}

/** Routes whose traffic says nothing about a tenant's behaviour. */
const IGNORED = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Streaming anomaly detection. The response hook turns each finished request
 * into an observation and runs the detectors in memory (no I/O on the request
 * path); signals go to the alert service one at a time, in order, off the path.
 * Baselines live in this process: each API process learns from the traffic it serves.
 */
export function createMonitor(deps: MonitorDeps) {
  const t = deps.tuning ?? {}
  const authFailures = createAuthFailureDetector({ ...AUTH_FAILURE_DEFAULTS, ...t.authFailures })
  const ipRanges = createIpRangeDetector({ ...IP_RANGE_DEFAULTS, ...t.ipRanges })
  const volume = createVolumeDetector(ipRanges, { ...VOLUME_DEFAULTS, ...t.volume })
  const offHours = createOffHoursDetector({ ...OFF_HOURS_DEFAULTS, ...t.offHours })
  const deliveryRates = createDeliveryRateDetector({ ...DELIVERY_RATE_DEFAULTS, ...t.deliveryRates })
  let chain: Promise<void> = Promise.resolve()

  function dispatch(signals: Signal[]) {
    for (const s of signals) {
      deps.alerts.preempt(s)
      chain = chain.then(async () => {
        if (s.rule === 'auth_failure_burst' && s.subject.type === 'key' && deps.resolveCredential) {
          // A burst against a real key belongs to its organization; an unknown lookup id stays a system alert.
          const owner = await deps.resolveCredential(s.subject.id)
          if (owner) Object.assign(s, { orgId: owner.orgId, keyId: owner.keyId, subject: { type: 'key', id: owner.keyId } })
        }
        await deps.alerts.raise(s)
      }).catch((err) => deps.onError?.('monitoring: raising an alert failed', err))
    }
  }

  function observe(obs: RequestObservation) {
    const signals = [
      ...authFailures.observe(obs),
      // Order matters: ranges are learned before volume asks which ones are new.
      ...ipRanges.observe(obs),
      ...volume.observe(obs),
      ...offHours.observe(obs),
    ]
    if (signals.length) dispatch(signals)
  }

  // async: Fastify runs the next onResponse hook when this one's promise settles.
  const responseHook: ResponseHook = async (req: FastifyRequest, reply: FastifyReply) => {
    deps.metrics.observeRequest(req, reply)
    const route = req.routeOptions?.url ?? null
    if (route && IGNORED.has(route)) return
    const p = req.principal
    // Keeps the organization's response policy cached, so a signal can be acted on without waiting.
    if (p) deps.peekPolicy?.(p.orgId)
    observe({
      at: deps.clock.now().getTime(), ip: req.clientIp || req.ip, method: req.method, route, status: reply.statusCode,
      orgId: p?.orgId ?? null, keyId: p?.credentialId ?? null, authFailure: req.authFailure,
      credentialHint: reply.statusCode === 401 ? (deps.credentialHint?.(req.headers.authorization) ?? null) : null,
    })
  }

  return {
    responseHook,
    observe,
    /**
     * For delivery/: one call per outcome (metrics, and bounce rates per organization).
     * A hard or soft bounce counts as bounced; deferrals are not counted until final.
     */
    recordDeliveryOutcome(orgId: string, outcome: DeliveryOutcome, at = deps.clock.now().getTime()) {
      deps.metrics.deliveryOutcome(outcome)
      const kind: DeliveryFeedback | null = outcome.kind === 'delivered' ? 'delivered' : outcome.kind === 'failed' && outcome.bounce ? 'bounced' : null
      if (!kind) return
      for (let i = 0; i < outcome.recipients.length; i++) dispatch(deliveryRates.record(orgId, kind, at))
    },
    /** For suppressions/ (feedback loops): one call per complaint. */
    recordComplaint(orgId: string, at = deps.clock.now().getTime()) {
      dispatch(deliveryRates.record(orgId, 'complained', at))
    },
    /** Resolves once every signal raised so far has been stored and answered (tests, shutdown). */
    settled: () => chain,
  }
}

export type Monitor = ReturnType<typeof createMonitor>
