/**
 * Where encrypted columns live, so data-key rotation can re-encrypt rows in
 * batches without knowing any domain. Each domain declares its columns (the
 * coordinator registers them in app.ts); the CipherContext a domain uses must
 * be `{ orgId, table, column, rowId, subjectId }` built from these columns.
 *
 * @example
 *   registry.register({ table: 'messages', column: 'subject', idColumn: 'id', orgColumn: 'org_id' })
 *   registry.register({ table: 'contacts', column: 'email', idColumn: 'id', orgColumn: 'org_id', subjectColumn: 'id' })
 *   registry.register({ table: 'user_totp', column: 'secret', idColumn: 'user_id', orgId: 'users', subjectColumn: 'user_id' })
 */
export interface EncryptedColumn {
  table: string
  column: string
  /** The row id used as `ctx.rowId`. */
  idColumn: string
  /** Column holding `ctx.orgId`... */
  orgColumn?: string
  /** ...or a fixed `ctx.orgId` for rows outside organizations (e.g. 'users'). */
  orgId?: string
  /** Column holding `ctx.subjectId` when values are under a per-subject key. */
  subjectColumn?: string
}

export interface ColumnRegistry {
  register(...columns: EncryptedColumn[]): void
  list(): readonly EncryptedColumn[]
}

const SQL_NAME = /^[a-z_][a-z0-9_]*$/

export function createColumnRegistry(): ColumnRegistry {
  const columns: EncryptedColumn[] = []
  return {
    register(...cols) {
      for (const c of cols) {
        for (const n of [c.table, c.column, c.idColumn, c.orgColumn, c.subjectColumn]) {
          if (n !== undefined && !SQL_NAME.test(n)) throw new Error(`encrypted column: "${n}" is not a plain SQL name`)
        }
        if (Boolean(c.orgColumn) === Boolean(c.orgId)) throw new Error(`encrypted column ${c.table}.${c.column}: set exactly one of orgColumn, orgId`)
        if (columns.some((x) => x.table === c.table && x.column === c.column)) continue
        columns.push(Object.freeze({ ...c }))
      }
    },
    list: () => columns,
  }
}
