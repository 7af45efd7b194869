import type { Selectable, Insertable } from 'kysely'

/**
 * One row per audited API call or administrative action. Rows are append-only
 * (a PostgreSQL trigger refuses UPDATE/DELETE outside the retention purge) and
 * chained: `hash = SHA-256(prev_hash || canonical(record))`, per chain.
 */
export interface AuditEventsTable {
  id: string
  /** The organization id, or `_system` for events no organization owns (unknown-key 401s). */
  chain_id: string
  /** Position in the chain, assigned at flush; only the hashes prove order. */
  seq: number
  org_id: string | null
  /** UTC ISO 8601, part of the hashed record. */
  ts: string
  /** Epoch ms of `ts`, for range queries and retention. */
  occurred_at: number
  /** `api.request` for API calls, a dotted verb (`key.created`) for admin actions. */
  action: string
  actor_type: string | null
  actor_id: string | null
  method: string | null
  route: string | null
  path: string | null
  status: number | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  duration_ms: number | null
  auth_failure: string | null
  target_type: string | null
  target_id: string | null
  outcome: string | null
  /** Redacted JSON: request summary and route/admin details. */
  details: string | null
  prev_hash: string
  hash: string
}

/** The head of each chain, locked by every flush so processes append in turn. */
export interface AuditChainHeadsTable {
  chain_id: string
  seq: number
  hash: string
  events_since_checkpoint: number
  last_checkpoint_at: number
}

/**
 * Signed statements about a chain. `checkpoint`: the event at `seq` had `event_hash`.
 * `anchor`: events up to `seq` were purged by retention; the chain resumes from `event_hash`.
 */
export interface AuditCheckpointsTable {
  id: string
  chain_id: string
  kind: 'checkpoint' | 'anchor'
  seq: number
  event_id: string
  event_hash: string
  created_at: number
  key_id: string
  /** base64url Ed25519 signature over the canonical statement. */
  signature: string
  /** JSON: for anchors, the purge statistics. */
  details: string | null
}

/** Per-organization retention, shared by audit events and message content. */
export interface RetentionPoliciesTable {
  org_id: string
  preset: string | null
  days: number
  updated_at: number
  updated_by: string | null
}

export interface AuditTables {
  audit_events: AuditEventsTable
  audit_chain_heads: AuditChainHeadsTable
  audit_checkpoints: AuditCheckpointsTable
  retention_policies: RetentionPoliciesTable
}

export type AuditEventRow = Selectable<AuditEventsTable>
export type NewAuditEventRow = Insertable<AuditEventsTable>
export type AuditCheckpointRow = Selectable<AuditCheckpointsTable>
