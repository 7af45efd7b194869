import type { Kysely } from 'kysely'
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
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}
