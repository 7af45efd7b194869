import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStorage, type Db } from '../../src/storage/db.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import { PG_URL, createPgSchema } from '../helpers/dialects.ts'

export interface QueueDb {
  db: Db
  /** A second, independent connection (pool) to the same database, as another worker process would have. */
  openAnother(): Promise<Db>
  close(): Promise<void>
}

/** A migrated database of the given dialect: a temp SQLite file or a throwaway PostgreSQL schema. */
export async function openQueueDb(dialect: DialectName): Promise<QueueDb> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-queue-'))
  const pgSchema = dialect === 'postgres' ? await createPgSchema() : null
  const opts = {
    databaseUrl: dialect === 'postgres' ? PG_URL : undefined,
    sqliteFile: join(dir, 'queue.sqlite'),
    pgSchema: pgSchema?.schema, poolSize: 4,
  }
  const main = await openStorage(opts)
  const others: { close(): Promise<void> }[] = []
  return {
    db: main.db,
    async openAnother() {
      const s = await openStorage(opts)
      others.push(s)
      return s.db
    },
    async close() {
      for (const o of others) await o.close()
      await main.close()
      await pgSchema?.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
