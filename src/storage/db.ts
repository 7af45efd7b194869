import { Kysely, type Transaction } from 'kysely'
import { sqliteDialect, postgresDialect, type DialectName } from './dialects.ts'
import { migrateToLatest } from './migrate.ts'
import type { Database } from './schema.ts'

export type Db = Kysely<Database>
export type DbOrTrx = Kysely<Database> | Transaction<Database>

export interface Storage {
  db: Db
  dialect: DialectName
  close(): Promise<void>
}

export interface StorageOptions {
  databaseUrl?: string
  sqliteFile: string
  /** PostgreSQL schema to use (tests get one each). */
  pgSchema?: string
  poolSize?: number
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  const dialect: DialectName = opts.databaseUrl ? 'postgres' : 'sqlite'
  const db = new Kysely<Database>({
    dialect: opts.databaseUrl
      ? postgresDialect(opts.databaseUrl, { schema: opts.pgSchema, max: opts.poolSize })
      : sqliteDialect(opts.sqliteFile),
  })
  await migrateToLatest(db, opts.databaseUrl ? opts.pgSchema : undefined)
  return { db, dialect, close: () => db.destroy() }
}
