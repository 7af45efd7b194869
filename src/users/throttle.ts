import { createHash } from 'node:crypto'
import type { Expression, ExpressionBuilder } from 'kysely'
import type { Database } from '../storage/schema.ts'
import type { DbOrTrx } from '../storage/db.ts'

/**
 * Brute-force and credential-stuffing defence: attempts are counted per IP, per
 * account (keyed by the hash of the email as typed, so unknown and known emails
 * behave the same) and per user for second factors. `free` attempts may come in
 * a burst; after that each one waits twice as long as the previous (from
 * `baseMs` up to `maxMs`: a temporary lockout). Counters live in the database so
 * every API process sees them, and reset `windowMs` after the last attempt.
 *
 * An attempt is reserved (counted) BEFORE the secret is checked, by one atomic
 * conditional upsert: parallel attempts each get their own count, and one that
 * arrives inside the back-off is refused without hashing, so concurrency buys no
 * extra guesses. A success hands its reservation back (refund) and clears the
 * account's counter; a failure keeps it.
 */
export interface ThrottleRule { free: number; baseMs: number; maxMs: number; windowMs: number }

const MINUTE = 60_000
export const THROTTLE_RULES = {
  ip: { free: 10, baseMs: 1000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
  acct: { free: 5, baseMs: 2000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
  mfa: { free: 5, baseMs: 2000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
} satisfies Record<string, ThrottleRule>
export type ThrottleKind = keyof typeof THROTTLE_RULES

/** How long the next attempt waits after `attempts` counted ones: 0 inside the free budget, then base, 2×base... */
export function backoffMs(rule: ThrottleRule, attempts: number): number {
  if (attempts < rule.free) return 0
  return Math.min(rule.maxMs, rule.baseMs * 2 ** Math.min(30, attempts - rule.free))
}

export const throttleKey = {
  ip: (ip: string) => `ip:${ip}`,
  acct: (email: string) => `acct:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`,
  mfa: (userId: string) => `mfa:${userId}`,
}

const kindOf = (key: string) => key.slice(0, key.indexOf(':')) as ThrottleKind

type Eb = ExpressionBuilder<Database, 'auth_throttle'>

/**
 * backoffMs in SQL, as a CASE over the (small, capped) number of doublings, so the
 * count and its back-off are written by the same statement. Literals, not
 * parameters: PostgreSQL would type untyped CASE parameters as text.
 */
function backoffSql(eb: Eb, rule: ThrottleRule, attempts: Expression<number>) {
  let c = eb.case().when(attempts, '<', eb.lit(rule.free)).then(eb.lit<number>(0))
  for (let k = 0; rule.baseMs * 2 ** k < rule.maxMs; k++) c = c.when(attempts, '=', eb.lit(rule.free + k)).then(eb.lit(rule.baseMs * 2 ** k))
  return c.else(eb.lit(rule.maxMs)).end()
}

/**
 * Counts one attempt on `key` unless it is inside its back-off. Atomic on both
 * dialects (INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING): the
 * conflicting row is locked, the WHERE is evaluated on its latest version.
 * Returns the attempt's number, or null when refused.
 */
async function reserveOne(db: DbOrTrx, key: string, now: number): Promise<number | null> {
  const rule = THROTTLE_RULES[kindOf(key)]
  const stale = now - rule.windowMs
  const row = await db.insertInto('auth_throttle')
    .values({ key, failures: 1, first_failure_at: now, last_failure_at: now, blocked_until: now + backoffMs(rule, 1) })
    .onConflict((oc) => oc.column('key')
      .doUpdateSet((eb) => {
        const isStale = eb('auth_throttle.last_failure_at', '<', eb.lit(stale))
        const attempts = eb.case().when(isStale).then(eb.lit(1)).else(eb('auth_throttle.failures', '+', eb.lit(1))).end()
        return {
          failures: attempts,
          first_failure_at: eb.case().when(isStale).then(eb.lit(now)).else(eb.ref('auth_throttle.first_failure_at')).end(),
          last_failure_at: now,
          blocked_until: eb(eb.lit(now), '+', backoffSql(eb, rule, attempts)),
        }
      })
      .where((eb) => eb.or([eb('auth_throttle.blocked_until', '<=', eb.lit(now)), eb('auth_throttle.last_failure_at', '<', eb.lit(stale))])))
    .returning(['failures'])
    .executeTakeFirst()
  return row ? Number(row.failures) : null
}

export type Reservation = { ok: true } | { ok: false; waitMs: number }

/**
 * Reserves one attempt on every key, or on none: when one key refuses, the keys
 * already counted are handed back and the caller gets the longest wait.
 */
export async function reserveAttempt(db: DbOrTrx, keys: string[], now: number): Promise<Reservation> {
  const taken: string[] = []
  for (const key of keys) {
    if ((await reserveOne(db, key, now)) !== null) { taken.push(key); continue }
    await refundAttempt(db, taken)
    const rows = await db.selectFrom('auth_throttle').select('blocked_until').where('key', '=', key).execute()
    return { ok: false, waitMs: Math.max(1000, ...rows.map((r) => Number(r.blocked_until) - now)) }
  }
  return { ok: true }
}

/**
 * Hands reservations back (the attempt succeeded, or another key refused it). Back
 * inside the free budget, the back-off it set goes too; a counter at zero is deleted.
 */
export async function refundAttempt(db: DbOrTrx, keys: string[]): Promise<void> {
  for (const key of keys) {
    const rule = THROTTLE_RULES[kindOf(key)]
    await db.updateTable('auth_throttle')
      .set((eb) => ({
        failures: eb('failures', '-', eb.lit(1)),
        blocked_until: eb.case().when(eb('failures', '<=', eb.lit(rule.free))).then(eb.lit(0)).else(eb.ref('blocked_until')).end(),
      }))
      .where('key', '=', key).where('failures', '>', 0).execute()
    await db.deleteFrom('auth_throttle').where('key', '=', key).where('failures', '<=', 0).execute()
  }
}

export async function clearFailures(db: DbOrTrx, keys: string[]): Promise<void> {
  if (keys.length) await db.deleteFrom('auth_throttle').where('key', 'in', keys).execute()
}

/** Housekeeping: forget counters older than every window. */
export async function pruneThrottle(db: DbOrTrx, now: number): Promise<void> {
  const longest = Math.max(...Object.values(THROTTLE_RULES).map((r) => r.windowMs))
  await db.deleteFrom('auth_throttle').where('last_failure_at', '<', now - longest).execute()
}
