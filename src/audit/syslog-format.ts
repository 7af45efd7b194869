import type { NewAuditEventRow } from './table.ts'

/**
 * RFC 5424 syslog messages for audit events, framed for RFC 5425 (TLS) with
 * octet counting (RFC 6587 §3.4.1): `MSG-LEN SP SYSLOG-MSG`.
 */

/** Facility 13: log audit. */
const FACILITY = 13
const SEVERITY = { error: 3, warning: 4, notice: 5, info: 6 } as const
/** 32473 is the private enterprise number RFC 5612 reserves for documentation; see the SD-ID note in the README. */
export const SD_ID = 'sealpost-audit@32473'

const printable = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-')
/** SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3). */
const sdValue = (v: unknown) => String(v).replace(/[\\"\]]/g, (c) => `\\${c}`)

function severityOf(e: Pick<NewAuditEventRow, 'status' | 'action' | 'outcome'>): number {
  if (e.status != null && e.status >= 500) return SEVERITY.error
  if (e.status === 401 || e.status === 403 || e.outcome === 'failure') return SEVERITY.warning
  return e.action === 'api.request' ? SEVERITY.info : SEVERITY.notice
}

export function formatRfc5424(e: NewAuditEventRow, meta: { hostname: string; procId: string | number }): string {
  const pri = FACILITY * 8 + severityOf(e)
  const params: [string, unknown][] = [
    ['id', e.id], ['org', e.org_id ?? '-'], ['seq', e.seq], ['hash', e.hash],
    ['actor', e.actor_type && e.actor_id ? `${e.actor_type}:${e.actor_id}` : '-'],
  ]
  if (e.status != null) params.push(['status', e.status])
  if (e.ip) params.push(['ip', e.ip])
  const sd = `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`
  const body = JSON.stringify({
    id: e.id, timestamp: e.ts, orgId: e.org_id, action: e.action,
    actor: e.actor_type && e.actor_id ? { type: e.actor_type, id: e.actor_id } : null,
    method: e.method, route: e.route, path: e.path, status: e.status, ip: e.ip, userAgent: e.user_agent,
    requestId: e.request_id, durationMs: e.duration_ms, authFailure: e.auth_failure,
    target: e.target_type && e.target_id ? { type: e.target_type, id: e.target_id } : null,
    outcome: e.outcome, details: e.details ? JSON.parse(e.details) : null, seq: e.seq, hash: e.hash,
  })
  return `<${pri}>1 ${e.ts} ${printable(meta.hostname, 255)} sealpost ${printable(String(meta.procId), 128)} ${printable(e.action, 32)} ${sd} \ufeff${body}`
}

export function octetFrame(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8')
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes])
}
