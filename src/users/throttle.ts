import { createHash } from 'node:crypto'
import type { DbOrTrx } from '../storage/db.ts'

/**
 * Brute-force and credential-stuffing defence: failed attempts are counted per
 * IP, per account (keyed by the hash of the email as typed, so unknown and known
 * emails behave the same) and per user for second factors. After `free` failures
 * each further one doubles the wait, up to `maxMs` (a temporary lockout). Counters
 * live in the database so every API process sees them, and reset `windowMs` after
 * the last failure. A successful login clears the account counter, not the IP's.
 */
export interface ThrottleRule { free: number; baseMs: number; maxMs: number; windowMs: number }

const MINUTE = 60_000
export const THROTTLE_RULES = {
  ip: { free: 10, baseMs: 1000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
  acct: { free: 5, baseMs: 2000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
  mfa: { free: 5, baseMs: 2000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE },
} satisfies Record<string, ThrottleRule>
export type ThrottleKind = keyof typeof THROTTLE_RULES

export function backoffMs(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.free) return 0
  return Math.min(rule.maxMs, rule.baseMs * 2 ** Math.min(30, failures - rule.free - 1))
}

export const throttleKey = {
  ip: (ip: string) => `ip:${ip}`,
  acct: (email: string) => `acct:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`,
  mfa: (userId: string) => `mfa:${userId}`,
}

const kindOf = (key: string) => key.slice(0, key.indexOf(':')) as ThrottleKind

/** Milliseconds until the next attempt is allowed for any of these keys (0: go ahead). */
export async function waitMs(db: DbOrTrx, keys: string[], now: number): Promise<number> {
  const rows = await db.selectFrom('auth_throttle').select(['key', 'blocked_until', 'last_failure_at'])
    .where('key', 'in', keys).execute()
  let wait = 0
  for (const r of rows) {
    if (now - r.last_failure_at > THROTTLE_RULES[kindOf(r.key)].windowMs) continue
    wait = Math.max(wait, r.blocked_until - now)
  }
  return wait
}

/** Counts one failure on each key (atomically: parallel attempts cannot lose counts). */
export async function recordFailure(db: DbOrTrx, keys: string[], now: number): Promise<void> {
  for (const key of keys) {
    const rule = THROTTLE_RULES[kindOf(key)]
    await db.deleteFrom('auth_throttle').where('key', '=', key).where('last_failure_at', '<', now - rule.windowMs).execute()
    const row = await db.insertInto('auth_throttle')
      .values({ key, failures: 1, first_failure_at: now, last_failure_at: now, blocked_until: 0 })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({
        failures: eb('auth_throttle.failures', '+', 1), last_failure_at: now,
      })))
      .returning(['failures'])
      .executeTakeFirstOrThrow()
    const failures = Number(row.failures)
    await db.updateTable('auth_throttle').set({ blocked_until: now + backoffMs(rule, failures) }).where('key', '=', key).execute()
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
