import type { Selectable } from 'kysely'

export interface OrgsTable {
  id: string
  name: string
  created_at: number
  /** JSON: { maxKeyAgeDays?, requireMfa?, retentionDays?, ... } */
  settings: string
}

export interface OrgTables {
  orgs: OrgsTable
}

export type OrgRow = Selectable<OrgsTable>
