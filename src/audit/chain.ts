import { createHash } from 'node:crypto'
import type { NewAuditEventRow } from './table.ts'

/** prev_hash of the first event of a chain that never had an anchor. */
export const GENESIS_HASH = '0'.repeat(64)
/** Chain for events no organization owns (e.g. a 401 with an unknown key). */
export const SYSTEM_CHAIN = '_system'

/** The hashed fields, in a fixed order; `seq` is not among them (the links prove order). */
const HASHED_FIELDS = [
  'id', 'chain_id', 'org_id', 'ts', 'occurred_at', 'action', 'actor_type', 'actor_id', 'method', 'route', 'path',
  'status', 'ip', 'user_agent', 'request_id', 'duration_ms', 'auth_failure', 'target_type', 'target_id', 'outcome',
  'details', 'prev_hash',
] as const

export type ChainedFields = Pick<NewAuditEventRow, (typeof HASHED_FIELDS)[number]>

/**
 * Canonical serialization: a JSON array of the hashed fields in a fixed order,
 * absent values as null. Stable across dialects because every value is a string,
 * an integer or null (PG bigint arrives as a number, see storage/dialects.ts).
 */
export function canonicalize(e: ChainedFields): string {
  return JSON.stringify(['sealpost-audit-v1', ...HASHED_FIELDS.map((f) => normalize(e[f]))])
}

function normalize(v: unknown): string | number | null {
  if (v === undefined || v === null) return null
  if (typeof v === 'number' || typeof v === 'string') return v
  return String(v)
}

export function hashEvent(e: ChainedFields): string {
  return createHash('sha256').update(canonicalize(e)).digest('hex')
}

/** What a checkpoint or anchor signature covers. */
export function checkpointStatement(c: { chain_id: string; kind: string; seq: number; event_id: string; event_hash: string; created_at: number; details: string | null }): Buffer {
  return Buffer.from(JSON.stringify(['sealpost-audit-checkpoint-v1', c.chain_id, c.kind, Number(c.seq), c.event_id, c.event_hash, Number(c.created_at), c.details]))
}
