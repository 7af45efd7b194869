import type { FastifyRequest, FastifyReply } from 'fastify'
import type { AuditRecorder, AdminEvent } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import type { ResponseHook } from '../http/pipeline.ts'
import type { AuditWriter } from './writer.ts'
import { redactDetails, requestSummary, scrubString, auditPath } from './redact.ts'

/** Administrative actions (key created, login failed, alert acknowledged...) → the same chained log. */
export function createAuditRecorder(writer: AuditWriter, clock: Clock): AuditRecorder {
  return {
    record(event: AdminEvent) {
      try {
        writer.append({
          orgId: event.orgId,
          at: clock.now(),
          action: event.action,
          actor: event.actor,
          ip: event.ip ?? null,
          requestId: event.requestId ?? null,
          target: event.target ?? null,
          outcome: event.outcome ?? 'success',
          details: event.details ? (redactDetails(event.details) as Record<string, unknown>) : null,
        })
      } catch {
        // record() never throws into the caller's action (contract in core/audit-sink.ts).
      }
    },
  }
}

/** Routes not audited: probes and scrapes would drown the log and carry no actor. */
const UNAUDITED = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * onResponse: one `api.request` event per API call. It only builds a small
 * object and buffers it; the writer batches the database work off the request path.
 */
export function createAuditResponseHook(writer: AuditWriter, clock: Clock): ResponseHook {
  // async: Fastify runs the next onResponse hook when this one's promise settles.
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions?.url ?? null
    if (route && UNAUDITED.has(route)) return
    const q = req.url.indexOf('?')
    const principal = req.principal
    const summary = requestSummary({
      query: q >= 0 ? req.url.slice(q + 1) : undefined,
      params: route ? (req.params as Record<string, string> | undefined) : undefined,
      contentType: header(req, 'content-type'),
      contentLength: header(req, 'content-length'),
      hasIdempotencyKey: req.headers['idempotency-key'] !== undefined,
    })
    const extra = req.auditDetails ? (redactDetails(req.auditDetails) as Record<string, unknown>) : null
    const details = summary || extra ? { ...(summary ? { request: summary } : {}), ...extra } : null
    const status = reply.statusCode
    writer.append({
      orgId: principal?.orgId ?? null,
      at: clock.now(),
      action: 'api.request',
      actor: principal ? principal.actor : null,
      method: req.method,
      route,
      path: auditPath(route, req.params as Record<string, unknown> | undefined, q >= 0 ? req.url.slice(0, q) : req.url),
      status,
      ip: req.clientIp || req.ip,
      userAgent: header(req, 'user-agent') ? scrubString(header(req, 'user-agent')!).slice(0, 256) : null,
      requestId: String(req.id),
      durationMs: Math.round(reply.elapsedTime),
      authFailure: status === 401 || req.authFailure ? req.authFailure : null,
      outcome: status < 400 ? 'success' : 'failure',
      details,
    })
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' ? v : undefined
}
