import type { Selectable } from 'kysely'

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'unsubscribe' | 'manual'

export interface SuppressionsTable {
  id: string
  org_id: string
  /** Blind index of the lower-cased address: equality lookups without storing it in clear. */
  address_index: string
  /** Encrypted address, for listing and export. */
  address: string
  reason: SuppressionReason
  /** Message that caused it (bounce, unsubscribe), if any. */
  message_id: string | null
  created_at: number
  /** Of the credential that added it; bounces and unsubscribes come from real mail: live. */
  environment: 'live' | 'test'
}

export interface SuppressionTables {
  suppressions: SuppressionsTable
}

export type SuppressionRow = Selectable<SuppressionsTable>

/** Columns under envelope encryption, for data-key rotation (crypto/registry.ts). */
export const suppressionEncryptedColumns = [{ table: 'suppressions', column: 'address', idColumn: 'id', orgColumn: 'org_id' }]
