import { createHash } from 'node:crypto'
import type { AuditWriter } from '../audit/writer.ts'

/** What a retention purge deleted, as an audit event in the organization's signed hash chain. */
export interface PurgeRecord {
  what: 'messages' | 'audit_events'
  count: number
  /** Everything created before this was eligible. */
  cutoff: string
  /** created_at of the oldest and newest deleted item. */
  range: { from: string; to: string }
  /** SHA-256 (hex) of the deleted ids, sorted, joined with "\n": proves later which set was deleted. */
  ids_sha256: string
  /** audit_events purges: the signed anchor that replaced them. */
  anchor?: string
}

export const PURGE_ACTION = 'retention.purged'

export function idsDigest(ids: readonly string[]): string {
  return createHash('sha256').update([...ids].sort().join('\n')).digest('hex')
}

/**
 * Appended through the writer directly, not the recorder: the recorder's redaction would
 * blank the 64-hex digest (it looks like a secret), and nothing here is personal data.
 */
export function recordPurge(writer: Pick<AuditWriter, 'append'>, orgId: string | null, at: Date, r: PurgeRecord): void {
  writer.append({ orgId, at, action: PURGE_ACTION, actor: { type: 'system', id: 'retention' }, outcome: 'success', details: { ...r } })
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** audit verify: null when `details` is a well-formed purge record, else what is wrong. */
export function purgeRecordProblem(details: string | null): string | null {
  let d: any
  try { d = JSON.parse(details ?? 'null') } catch { return 'details are not JSON' }
  if (!d || typeof d !== 'object') return 'no details'
  if (d.what !== 'messages' && d.what !== 'audit_events') return 'unknown `what`'
  if (!Number.isSafeInteger(d.count) || d.count < 1) return '`count` is not a positive integer'
  if (typeof d.cutoff !== 'string' || !ISO.test(d.cutoff)) return '`cutoff` is not an ISO timestamp'
  if (!d.range || !ISO.test(d.range.from ?? '') || !ISO.test(d.range.to ?? '') || d.range.from > d.range.to) return '`range` is not a from/to pair of timestamps'
  if (d.range.to >= d.cutoff) return '`range` reaches past the cutoff: something inside retention was deleted'
  if (typeof d.ids_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(d.ids_sha256)) return '`ids_sha256` is not a SHA-256 hex digest'
  if (d.what === 'audit_events' && (typeof d.anchor !== 'string' || !d.anchor)) return 'an audit_events purge names no anchor'
  return null
}
