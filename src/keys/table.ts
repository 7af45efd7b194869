import type { Selectable } from 'kysely'

export interface ApiKeysTable {
  id: string
  org_id: string
  name: string
  environment: 'live' | 'test'
  /** JSON array of scopes */
  scopes: string
  /** JSON AccessConditions or null */
  conditions: string | null
  created_by: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  /** `manual` (API), `leaked` (secret-scanning report) */
  revoked_reason: string | null
  /** actor id that revoked it, or `system` */
  revoked_by: string | null
  suspended_at: number | null
  suspended_reason: string | null
  last_used_at: number | null
  last_used_ip: string | null
  last4: string
}

/** A key may have two live secrets during a rotation grace window. */
export interface ApiKeySecretsTable {
  lookup_id: string
  key_id: string
  org_id: string
  hash: string
  created_at: number
  /** Set on the old secret when the key is rotated. */
  expires_at: number | null
}

export interface KeyTables {
  api_keys: ApiKeysTable
  api_key_secrets: ApiKeySecretsTable
}

export type ApiKeyRow = Selectable<ApiKeysTable>
