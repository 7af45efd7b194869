import type { Selectable } from 'kysely'

/**
 * One row per (org, subject, window): `subject` is `org` or `key:<credentialId>`,
 * `window` is minute | hour | day | month (UTC calendar month). The row is reused: a reservation in a newer
 * window restarts `used` (fixed windows, aligned to UTC).
 */
export interface QuotaCountersTable {
  org_id: string
  subject: string
  window: string
  window_start: number
  used: number
}

export interface LimitTables {
  quota_counters: QuotaCountersTable
}

export type QuotaCounterRow = Selectable<QuotaCountersTable>
