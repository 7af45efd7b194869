import pg from 'pg'
import { randomBytes } from 'node:crypto'
import type { DialectName } from '../../src/storage/dialects.ts'

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const mandatory = process.env.CI === 'true'

let pgUp: Promise<boolean> | undefined
export function postgresReachable(): Promise<boolean> {
  pgUp ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 })
    try { await c.connect(); await c.end(); return true } catch { return false }
  })()
  return pgUp
}

/**
 * The dialects a storage test must run on. PostgreSQL is skipped only when
 * unreachable on a developer laptop; under CI=true an unreachable server fails.
 */
export async function testDialects(): Promise<{ name: DialectName; skip: string | false }[]> {
  const up = await postgresReachable()
  if (!up && mandatory) throw new Error(`CI=true but PostgreSQL is unreachable at ${PG_URL}`)
  return [
    { name: 'sqlite', skip: false },
    { name: 'postgres', skip: up ? false : `PostgreSQL unreachable at ${PG_URL}; skipped (mandatory when CI=true)` },
  ]
}

/** A throwaway PostgreSQL schema per test app, so parallel tests never share rows. */
export async function createPgSchema(): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  await c.query(`create schema ${schema}`)
  await c.end()
  return {
    schema,
    async drop() {
      const d = new pg.Client({ connectionString: PG_URL })
      await d.connect()
      await d.query(`drop schema if exists ${schema} cascade`)
      await d.end()
    },
  }
}
