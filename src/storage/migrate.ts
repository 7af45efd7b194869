import { sql, type Kysely } from 'kysely'
import { isPostgres } from './dialects.ts'
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration'
import { readdir } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

/** Migrations are `src/storage/migrations/YYYY_MM_DD_NNN_name.ts`, applied in name order. */
const provider: MigrationProvider = {
  async getMigrations() {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort()
    const out: Record<string, Migration> = {}
    for (const f of files) out[f.replace(/\.ts$/, '')] = await import(pathToFileURL(join(MIGRATIONS_DIR, f)).href)
    return out
  },
}

/**
 * `schema`: the PostgreSQL schema the connection's search_path points at. Without it,
 * Kysely looks for its lock table in every schema and trips over another test's.
 */
export async function migrateToLatest(db: Kysely<any>, schema?: string): Promise<void> {
  // No schema given (DATABASE_URL alone, search_path in its options or the role's default):
  // pin Kysely's tables to the schema this connection writes to, not any schema that has them.
  schema ??= isPostgres(db) ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) })
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest()
    const failed = results?.find((r) => r.status === 'Error')
    if (!error && !failed) return
    // Kysely's migrator introspects every schema of the database; a schema another process drops
    // at that moment makes the catalog query fail with 3F000/42P01. Nothing was applied (PostgreSQL
    // runs the migrations in one transaction), so trying again is safe.
    const code = (error as { code?: string } | undefined)?.code
    if ((code === '3F000' || code === '42P01') && attempt < 5) {
      await new Promise((r) => setTimeout(r, 50 * attempt))
      continue
    }
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}
