import type { Selectable } from 'kysely'

/** `domain` of a job that covers every recipient of its message (relay delivery). */
export const ALL_DOMAINS = '*'

/**
 * One row per (message, recipient domain) when delivering direct to MX, or one per
 * message through a relay. No addresses here: recipients stay encrypted in messages/;
 * `settled` holds indices into the message's recipient list (to, cc, bcc order).
 */
export interface DeliveryJobsTable {
  id: string
  org_id: string
  message_id: string
  /** ASCII (punycode) lower-case recipient domain, or ALL_DOMAINS. */
  domain: string
  state: 'queued' | 'done' | 'failed'
  /** Claims so far, counted when a worker claims the job. */
  attempts: number
  /** Times the job was taken back from a worker whose lease expired. */
  reclaims: number
  run_at: number
  lease_owner: string | null
  lease_until: number | null
  /** JSON array of recipient indices already delivered or failed. */
  settled: string
  last_error: string | null
  created_at: number
  updated_at: number
}

/** A receiver that answered 421/451 is left alone by every worker until `paused_until`. */
export interface DeliveryDomainPausesTable {
  domain: string
  paused_until: number
  reason: string
}

export interface QueueTables {
  delivery_jobs: DeliveryJobsTable
  delivery_domain_pauses: DeliveryDomainPausesTable
}

export type DeliveryJobRow = Selectable<DeliveryJobsTable>
