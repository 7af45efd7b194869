import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client'
import type { FastifyRequest, FastifyReply } from 'fastify'
import type { DeliveryQueue, DeliveryOutcome } from '../delivery/contract.ts'

export interface MetricsSources {
  /** Queue depth and age (delivery/ implements DeliveryQueue.stats()). */
  queue?: Pick<DeliveryQueue, 'stats'> | null
  /** Audit pipeline state: buffered events, SIEM queue. */
  audit?: () => { buffered: number; written: number; dropped: number; siemQueued: number }
}

/**
 * One prom-client Registry per app (never the global default, so several apps
 * in one process — tests — do not collide). Labels use route patterns, never
 * raw paths, so cardinality stays bounded.
 */
export function createMetrics(sources: MetricsSources = {}) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'sealpost_' })

  const requests = new Counter({ name: 'sealpost_http_requests_total', help: 'HTTP requests by route pattern, method and status.', labelNames: ['method', 'route', 'status'], registers: [registry] })
  const latency = new Histogram({
    name: 'sealpost_http_request_duration_seconds', help: 'HTTP request latency by route pattern, method and status.',
    labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  })
  const authFailures = new Counter({ name: 'sealpost_auth_failures_total', help: 'Failed authentications by reason.', labelNames: ['reason'], registers: [registry] })
  const rateLimited = new Counter({ name: 'sealpost_rate_limited_total', help: 'Requests refused with 429 (rate limits, quotas, throttles).', labelNames: ['route', 'code'], registers: [registry] })
  const deliveries = new Counter({ name: 'sealpost_delivery_outcomes_total', help: 'Delivery outcomes per recipient.', labelNames: ['outcome', 'bounce'], registers: [registry] })
  const alerts = new Counter({ name: 'sealpost_alerts_raised_total', help: 'Security alerts raised by rule and severity.', labelNames: ['rule', 'severity'], registers: [registry] })

  if (sources.queue) {
    const queue = sources.queue
    let last: Promise<Awaited<ReturnType<DeliveryQueue['stats']>>> | null = null
    // The three gauges share one stats() call per scrape.
    const stats = () => (last ??= queue.stats().finally(() => setImmediate(() => { last = null })))
    new Gauge({ name: 'sealpost_queue_ready', help: 'Delivery jobs ready to run.', registers: [registry], async collect() { this.set((await stats()).ready) } })
    new Gauge({ name: 'sealpost_queue_leased', help: 'Delivery jobs being worked on.', registers: [registry], async collect() { this.set((await stats()).leased) } })
    new Gauge({ name: 'sealpost_queue_oldest_ready_age_seconds', help: 'Age of the oldest ready delivery job.', registers: [registry], async collect() { this.set(((await stats()).oldestReadyAgeMs ?? 0) / 1000) } })
  }
  if (sources.audit) {
    const audit = sources.audit
    new Gauge({ name: 'sealpost_audit_buffered_events', help: 'Audit events waiting to be written.', registers: [registry], collect() { this.set(audit().buffered) } })
    new Gauge({ name: 'sealpost_audit_written_events', help: 'Audit events written by this process.', registers: [registry], collect() { this.set(audit().written) } })
    new Gauge({ name: 'sealpost_audit_dropped_events', help: 'Audit events dropped because the buffer overflowed (database down too long).', registers: [registry], collect() { this.set(audit().dropped) } })
    new Gauge({ name: 'sealpost_audit_siem_queued_events', help: 'Audit events waiting for the SIEM receiver.', registers: [registry], collect() { this.set(audit().siemQueued) } })
  }

  return {
    registry,
    /** onResponse: counts and times every request. */
    observeRequest(req: FastifyRequest, reply: FastifyReply) {
      const route = req.routeOptions?.url ?? '(unmatched)'
      const labels = { method: req.method, route, status: String(reply.statusCode) }
      requests.inc(labels)
      latency.observe(labels, reply.elapsedTime / 1000)
      if (reply.statusCode === 401 && req.authFailure) authFailures.inc({ reason: req.authFailure.slice(0, 40) })
      if (reply.statusCode === 429) rateLimited.inc({ route, code: '429' })
    },
    alertRaised: (rule: string, severity: string) => alerts.inc({ rule, severity }),
    deliveryOutcome(outcome: DeliveryOutcome) {
      const bounce = outcome.kind === 'failed' ? (outcome.bounce ?? 'none') : 'none'
      deliveries.inc({ outcome: outcome.kind, bounce }, outcome.recipients.length)
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
