export interface CanaryKeysTable {
  key_id: string
  org_id: string
  name: string
  created_by: string | null
  created_at: number
}

export interface CanaryKeyTables {
  canary_keys: CanaryKeysTable
}
