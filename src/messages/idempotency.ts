import { createHash } from 'node:crypto'
import { AppError } from '../core/errors.ts'
import { DAY } from '../core/clock.ts'
import type { DbOrTrx } from '../storage/db.ts'
import type { Environment } from '../core/principal.ts'

export const IDEMPOTENCY_TTL_MS = DAY
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/

export interface StoredResponse { statusCode: number; body: unknown }

export function checkIdempotencyKey(key: string | string[] | undefined): string | undefined {
  if (key === undefined) return undefined
  if (typeof key !== 'string' || !KEY_SHAPE.test(key)) {
    throw new AppError('invalid_request', 'Idempotency-Key must be 1-255 printable ASCII characters.')
  }
  return key
}

export const requestHash = (route: string, body: unknown) =>
  createHash('sha256').update(route).update('\0').update(JSON.stringify(body)).digest('hex')

/**
 * Same key + same request → the stored response; same key + different request → 409.
 * Keys live 24 h per organization and environment: a key first used by a test credential is a
 * different key for a live one (else the live send would replay the sandboxed response and never go out).
 */
export interface IdempotencyScope { orgId: string; environment: Environment }

export async function findReplay(db: DbOrTrx, scope: IdempotencyScope, key: string, hash: string, now: number): Promise<StoredResponse | null> {
  const row = await db.selectFrom('idempotency_keys').selectAll()
    .where('org_id', '=', scope.orgId).where('environment', '=', scope.environment).where('key', '=', key).where('expires_at', '>', now).executeTakeFirst()
  if (!row) return null
  if (row.request_hash !== hash) {
    throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used with a different request.')
  }
  return { statusCode: row.status_code, body: JSON.parse(row.response) }
}

export async function saveResponse(db: DbOrTrx, scope: IdempotencyScope, key: string, hash: string, res: StoredResponse, now: number): Promise<void> {
  // An expired row with the same key is replaced.
  await db.deleteFrom('idempotency_keys').where('org_id', '=', scope.orgId).where('environment', '=', scope.environment).where('key', '=', key).where('expires_at', '<=', now).execute()
  await db.insertInto('idempotency_keys').values({
    org_id: scope.orgId, environment: scope.environment, key, request_hash: hash, status_code: res.statusCode, response: JSON.stringify(res.body),
    created_at: now, expires_at: now + IDEMPOTENCY_TTL_MS,
  }).execute()
}

/**
 * Housekeeping (app-maintenance.ts): drops every organization's keys past their 24 h. Cross-tenant on
 * purpose: it reads nothing, and lookups already ignore expired rows, so this only bounds the table.
 */
export async function pruneIdempotencyKeys(db: DbOrTrx, now: number): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst()
  return Number(r.numDeletedRows)
}
