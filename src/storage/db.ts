import { closeSync, existsSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { Kysely, type Transaction } from 'kysely'
import { assertPrivateFiles, ensurePrivateDir } from '../core/private-file.ts'
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

const sqliteFiles = (file: string) => [file, `${file}-wal`, `${file}-shm`]

/**
 * The SQLite database and its WAL and shared-memory files hold every ciphertext,
 * hash and the audit trail: owner-only (folder 0700, files 0600), like the key
 * files, and a looser existing one is refused with the chmod to run. SQLite gives
 * -wal and -shm the database file's mode, so creating that file 0600 (before SQLite
 * does, with 0644) covers all three, whatever the umask.
 */
function prepareSqliteFiles(file: string): void {
  if (file === ':memory:') return
  ensurePrivateDir(dirname(file))
  assertPrivateFiles(sqliteFiles(file))
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600))
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  const dialect: DialectName = opts.databaseUrl ? 'postgres' : 'sqlite'
  if (!opts.databaseUrl) prepareSqliteFiles(opts.sqliteFile)
  const db = new Kysely<Database>({
    dialect: opts.databaseUrl
      ? postgresDialect(opts.databaseUrl, { schema: opts.pgSchema, max: opts.poolSize })
      : sqliteDialect(opts.sqliteFile),
  })
  await migrateToLatest(db, opts.databaseUrl ? opts.pgSchema : undefined)
  return { db, dialect, close: () => db.destroy() }
}
