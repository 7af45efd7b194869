import type { Selectable } from 'kysely'

/**
 * Wrapped data keys. One row per (organization, subject, version):
 * subject_id '' is the organization's key; a contact id is that contact's key
 * (deleting it crypto-shreds the contact). Organization '*' holds the process-wide
 * blind-index root key. `kek_version` names the provider's KEK that wrapped it.
 */
export interface CryptoDeksTable {
  id: string
  org_id: string
  subject_id: string
  version: number
  /** 'current' (new writes) or 'retired' (still decrypts until rows are re-encrypted). */
  state: 'current' | 'retired'
  kek_version: string
  /** base64 of the provider's wrap output */
  wrapped: string
  created_at: number
  retired_at: number | null
  rewrapped_at: number | null
}

export interface CryptoTables {
  crypto_deks: CryptoDeksTable
}

export type DekRow = Selectable<CryptoDeksTable>
