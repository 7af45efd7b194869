import { AppError } from '../core/errors.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import { assertPasswordPolicy, assertValidEmail } from '../users/accounts.ts'
import type { RequestMeta } from '../users/deps.ts'
import type { MailSender } from '../users/mail.ts'
import { hashPassword } from '../users/password.ts'
import { findUser, findUserByEmail, updateUser } from '../users/store.ts'
import { hashToken, newToken } from '../users/tokens.ts'

export const PASSWORD_RESET_TTL_MS = 30 * 60_000
const INVALID = 'This password reset link is invalid or has expired.'

/**
 * Password reset by email.
 * - request: the same 202 whatever the address; the lookup, token and mail happen after the answer
 *   (detached), so neither the body nor the response time tells whether an account exists.
 * - the token: 256-bit, stored as SHA-256 only, purpose `password_reset`, 30 minutes, single use.
 * - confirm: the password policy is checked before the token is spent (a refused password keeps the
 *   link usable); success spends every outstanding reset token of the user and signs out every session.
 *   Second factors stay: an account with MFA still needs it at the next sign-in.
 */
export function createPasswordReset(deps: {
  db: Db; clock: Clock; audit: AuditRecorder; mail: MailSender; publicUrl: string
  sessions: { revokeAll(userId: string): Promise<number> }
  onError(what: string, err: unknown): void
}) {
  const now = () => deps.clock.now().getTime()
  // Detached requests run one after another: bounded work per process under a flood (the route is
  // also rate-limited per IP) and an exact per-recipient count in sender.ts.
  let tail: Promise<void> = Promise.resolve()

  async function issue(email: string, meta: RequestMeta): Promise<void> {
    const user = await findUserByEmail(deps.db, email)
    if (!user || user.disabled_at !== null) {
      deps.audit.record({ orgId: null, actor: { type: 'system', id: 'password-reset' }, action: 'user.password_reset_requested', outcome: 'failure', ip: meta.ip, requestId: meta.requestId, details: { account: 'unknown_or_disabled' } })
      return
    }
    const token = newToken()
    const at = now()
    await deps.db.insertInto('user_tokens').values({ token_hash: hashToken(token), user_id: user.id, purpose: 'password_reset', created_at: at, expires_at: at + PASSWORD_RESET_TTL_MS, used_at: null }).execute()
    const link = new URL(`/reset-password#token=${token}`, deps.publicUrl).toString()
    await deps.mail.send({ to: user.email, kind: 'password_reset', subject: 'Reset your Sealpost password', text: `Open this link to choose a new password (valid 30 minutes, once):\n${link}\n\ntoken: ${token}\n` })
    deps.audit.record({ orgId: null, actor: { type: 'user', id: user.id }, action: 'user.password_reset_requested', outcome: 'success', ip: meta.ip, requestId: meta.requestId })
  }

  function request(email: string, meta: RequestMeta): void {
    const normalized = assertValidEmail(email)
    tail = tail.then(() => issue(normalized, meta)).catch((err) => deps.onError('password reset: issuing the token failed', err))
  }

  async function confirm(token: string, password: string, meta: RequestMeta): Promise<{ sessionsRevoked: number }> {
    const hash = hashToken(token)
    const at = now()
    const row = await deps.db.selectFrom('user_tokens').select(['user_id', 'expires_at', 'used_at'])
      .where('token_hash', '=', hash).where('purpose', '=', 'password_reset').executeTakeFirst()
    const user = row && row.used_at === null && row.expires_at > at ? await findUser(deps.db, row.user_id) : undefined
    if (!row || !user || user.disabled_at !== null) {
      deps.audit.record({ orgId: null, actor: { type: 'system', id: 'password-reset' }, action: 'user.password_reset_failed', outcome: 'failure', ip: meta.ip, requestId: meta.requestId })
      throw new AppError('not_found', INVALID)
    }
    assertPasswordPolicy(password, user.email)
    const passwordHash = await hashPassword(password)
    const spent = await deps.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('user_tokens').set({ used_at: at })
        .where('token_hash', '=', hash).where('purpose', '=', 'password_reset').where('used_at', 'is', null).where('expires_at', '>', at).executeTakeFirst()
      // Two confirmations racing with the same token: only one sets the password.
      if (Number(r.numUpdatedRows) !== 1) return false
      await trx.updateTable('user_tokens').set({ used_at: at }).where('user_id', '=', user.id).where('purpose', '=', 'password_reset').where('used_at', 'is', null).execute()
      await updateUser(trx, user.id, { password_hash: passwordHash, password_change_required: 0, updated_at: at })
      return true
    })
    if (!spent) throw new AppError('not_found', INVALID)
    const sessionsRevoked = await deps.sessions.revokeAll(user.id)
    deps.audit.record({ orgId: null, actor: { type: 'user', id: user.id }, action: 'user.password_reset', target: { type: 'user', id: user.id }, outcome: 'success', ip: meta.ip, requestId: meta.requestId, details: { via: 'email', sessionsRevoked } })
    return { sessionsRevoked }
  }

  return {
    request,
    confirm,
    /** Resolves once every detached request has finished (close, tests). */
    async settled(): Promise<void> {
      let seen: Promise<void>
      do { seen = tail; await seen } while (seen !== tail)
    },
  }
}

export type PasswordReset = ReturnType<typeof createPasswordReset>
