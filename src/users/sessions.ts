import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Db } from '../storage/db.ts'
import { consumeChallenge, findSessionByTokenHash, insertSession, listLiveSessions, revokeSessions, updateSession, type SessionWithUser } from './session-store.ts'
import { hashToken, hmacHex, newToken, sameSecret } from './tokens.ts'

/**
 * Server-side sessions. The browser holds a 256-bit token; the database holds
 * its SHA-256, so a database read does not yield usable cookies. A session ends
 * when idle for `idleMs`, `absoluteMs` after sign-in, or `pendingMs` after
 * sign-in if a required second factor was never given. Tokens rotate (same
 * session id, new token) on every privilege change: second factor, org switch.
 */
export interface SessionTimeouts {
  idleMs: number
  absoluteMs: number
  /** Sign-in to second factor. */
  pendingMs: number
  /** How recent a second factor must be for sensitive actions (step-up). */
  stepUpMs: number
}

const MINUTE = 60_000
export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = { idleMs: 30 * MINUTE, absoluteMs: 12 * 60 * MINUTE, pendingMs: 10 * MINUTE, stepUpMs: 5 * MINUTE }

/** last_seen_at is written at most this often per session. */
const TOUCH_EVERY_MS = 30_000

export interface NewSession { userId: string; orgId: string | null; ip: string; userAgent: string; mfaVerifiedAt: number | null }

export type SessionManager = ReturnType<typeof createSessionManager>

export function createSessionManager(deps: { db: Db; clock: Clock; pepper: string; timeouts?: Partial<SessionTimeouts> }) {
  const t: SessionTimeouts = { ...DEFAULT_SESSION_TIMEOUTS, ...deps.timeouts }
  const now = () => deps.clock.now().getTime()

  function isLive(s: SessionWithUser, at: number): boolean {
    if (s.revoked_at !== null || s.disabled_at !== null) return false
    if (at - s.last_seen_at >= t.idleMs) return false
    if (at - s.authenticated_at >= t.absoluteMs) return false
    if (s.mfa_enabled === 1 && s.mfa_verified_at === null && at - s.authenticated_at >= t.pendingMs) return false
    return true
  }

  return {
    timeouts: t,

    async create(input: NewSession): Promise<{ id: string; token: string }> {
      const at = now()
      const id = newId('ses', at)
      const token = newToken()
      await insertSession(deps.db, {
        id, token_hash: hashToken(token), user_id: input.userId, org_id: input.orgId,
        created_at: at, last_seen_at: at, authenticated_at: at, mfa_verified_at: input.mfaVerifiedAt,
        ip: input.ip, user_agent: input.userAgent.slice(0, 256), revoked_at: null,
        challenge: null, challenge_purpose: null, challenge_expires_at: null,
      })
      return { id, token }
    },

    /** The live session for a cookie token, or null (unknown, revoked, timed out). */
    async resolve(token: string): Promise<SessionWithUser | null> {
      const s = await findSessionByTokenHash(deps.db, hashToken(token))
      const at = now()
      if (!s || !isLive(s, at)) return null
      if (at - s.last_seen_at >= TOUCH_EVERY_MS) {
        await updateSession(deps.db, s.user_id, s.id, { last_seen_at: at })
        s.last_seen_at = at
      }
      return s
    },

    /** New token for the same session (fixation defence); the old token stops working at once. */
    async rotate(s: Pick<SessionWithUser, 'id' | 'user_id'>, set: { mfa_verified_at?: number; org_id?: string | null } = {}): Promise<string> {
      const token = newToken()
      const ok = await updateSession(deps.db, s.user_id, s.id, { ...set, token_hash: hashToken(token), challenge: null, challenge_purpose: null, challenge_expires_at: null })
      if (!ok) throw new Error('session vanished during rotation')
      return token
    },

    async markMfa(s: Pick<SessionWithUser, 'id' | 'user_id'>): Promise<void> {
      await updateSession(deps.db, s.user_id, s.id, { mfa_verified_at: now() })
    },

    async setChallenge(s: Pick<SessionWithUser, 'id' | 'user_id'>, challenge: string, purpose: 'register' | 'authenticate'): Promise<void> {
      await updateSession(deps.db, s.user_id, s.id, { challenge, challenge_purpose: purpose, challenge_expires_at: now() + 5 * MINUTE })
    },

    /** Returns the pending challenge for `purpose` and consumes it, so each challenge is usable once. */
    async takeChallenge(s: SessionWithUser, purpose: 'register' | 'authenticate'): Promise<string | null> {
      const c = s.challenge
      if (c === null || s.challenge_purpose !== purpose || (s.challenge_expires_at ?? 0) <= now()) return null
      return (await consumeChallenge(deps.db, s.user_id, s.id, c)) ? c : null
    },

    /** Per-session CSRF token: derived from the session token, so it rotates with it and needs no storage. */
    csrfToken(token: string): string {
      return hmacHex(deps.pepper, 'csrf', hashToken(token))
    },

    checkCsrf(token: string, presented: string | undefined): boolean {
      return typeof presented === 'string' && sameSecret(this.csrfToken(token), presented)
    },

    /** Whether the last second factor is recent enough for a sensitive action. */
    isFresh(mfaVerifiedAt: number | null | undefined): boolean {
      return typeof mfaVerifiedAt === 'number' && now() - mfaVerifiedAt < t.stepUpMs
    },

    list(userId: string) {
      const at = now()
      return listLiveSessions(deps.db, userId, { createdAfter: at - t.absoluteMs, seenAfter: at - t.idleMs })
    },

    revoke(userId: string, id: string): Promise<number> {
      return revokeSessions(deps.db, userId, now(), { only: id })
    },

    revokeAll(userId: string, except?: string): Promise<number> {
      return revokeSessions(deps.db, userId, now(), except ? { except } : {})
    },
  }
}
