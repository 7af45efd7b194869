import { Kysely, PostgresAdapter, SqliteDialect, PostgresDialect, sql } from 'kysely'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export type DialectName = 'sqlite' | 'postgres'

/** Dialect quirks live here and nowhere else. */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter
}

export function sqliteDialect(file: string): SqliteDialect {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new SQLite(file)
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  return new SqliteDialect({ database: withStatementCache(database) })
}

/**
 * Kysely's SQLite driver prepares every statement on every execution; reusing them
 * cuts about 1.4 ms of CPU per send request (bench/query-profile.ts). Bounded (LRU);
 * a statement still mid-iteration is never handed out twice.
 */
function withStatementCache(database: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>()
  return {
    close: () => database.close(),
    prepare(sqlText: string): SQLite.Statement {
      const hit = cache.get(sqlText)
      if (hit && !hit.busy) {
        cache.delete(sqlText)
        cache.set(sqlText, hit)
        return hit
      }
      const stmt = database.prepare(sqlText)
      if (hit) return stmt
      cache.set(sqlText, stmt)
      if (cache.size > max) cache.delete(cache.keys().next().value as string)
      return stmt
    },
  }
}

const INT8_OID = 20

export function postgresDialect(url: string, opts: { schema?: string; max?: number } = {}): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    // Timestamps are epoch milliseconds in BIGINT columns; parse them as numbers.
    types: { getTypeParser: (oid: number, format?: any) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) } as any,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  })
  return new PostgresDialect({ pool })
}

/** `now()`-free SQL helpers that behave the same on both dialects. */
export const nowMs = (clockMs: number) => sql<number>`${clockMs}`
