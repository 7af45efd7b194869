import type { Selectable } from 'kysely'

export interface SystemMailTable {
  id: string
  /** The organization the mail concerns (the invitation's, the alert's); null for account mail (reset, verification). */
  org_id: string | null
  kind: string
  /** HMAC-SHA256(pepper, lower-cased address): the rate-limit key, never the address itself. */
  recipient_hash: string
  message_id: string | null
  outcome: 'queued' | 'rate_limited' | 'no_sender' | 'refused'
  created_at: number
}

export interface SystemMailTables {
  system_mail: SystemMailTable
}

export type SystemMailRow = Selectable<SystemMailTable>
