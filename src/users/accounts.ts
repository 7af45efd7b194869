import { AppError } from '../core/errors.ts'
import type { AdminEvent } from '../core/audit-sink.ts'
import { newId } from '../core/ids.ts'
import { randomBytes } from 'node:crypto'
import { insertMembership } from './membership-store.ts'
import type { DbOrTrx } from '../storage/db.ts'
import type { UsersDeps, RequestMeta } from './deps.ts'
import type { SessionContext } from './gate.ts'
import { checkPassword, PASSWORD_PROBLEM_MESSAGES } from './password-policy.ts'
import { hashPassword, verifyPassword } from './password.ts'
import { deleteAllFactors, findUser, findUserByEmail, insertUser, insertUserToken, normalizeEmail, spendUserToken, updateUser } from './store.ts'
import { hashToken, newToken } from './tokens.ts'

const VERIFY_EMAIL_TTL_MS = 24 * 60 * 60_000
const NO_SPACE_OR_AT = /^[^\s@]+$/

/**
 * Loose on purpose (the mail we send is the real check): 1-64 characters, `@`, then a domain with a dot
 * after its first character, at most 253 characters before it and two or more after. Written as a scan,
 * not as one regex: `[^\s@]{1,253}\.[^\s@]{2,}` can split at any dot, which backtracks quadratically.
 */
export function looksLikeEmail(e: string): boolean {
  const at = e.indexOf('@')
  if (at < 1 || at > 64) return false
  const local = e.slice(0, at), domain = e.slice(at + 1)
  if (!NO_SPACE_OR_AT.test(local) || !NO_SPACE_OR_AT.test(domain)) return false
  // The first dot decides: a later one has fewer characters after it and more before.
  const dot = domain.indexOf('.', 1)
  return dot !== -1 && dot <= 253 && domain.length - dot - 1 >= 2
}

export function assertValidEmail(email: string): string {
  const e = normalizeEmail(email)
  if (e.length > 254 || !looksLikeEmail(e)) throw new AppError('invalid_request', 'Invalid email address.', { details: [{ path: 'body/email', message: 'invalid email address' }] })
  return e
}

export function assertPasswordPolicy(password: string, email: string): void {
  const problem = checkPassword(password, { email })
  if (problem) throw new AppError('invalid_request', PASSWORD_PROBLEM_MESSAGES[problem], { details: [{ path: 'body/password', message: problem }] })
}

/**
 * Accounts: creation (first owner, invitation), email verification, password
 * change, and the operator's MFA reset.
 */
export function createAccountService(deps: UsersDeps) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  async function createUser(input: { email: string; password: string; displayName: string; emailVerified: boolean }, trx: DbOrTrx = db) {
    const email = assertValidEmail(input.email)
    assertPasswordPolicy(input.password, email)
    if (await findUserByEmail(trx, email)) throw new AppError('conflict', 'A user with this email already exists.')
    const at = now()
    const id = newId('usr', at)
    await insertUser(trx, {
      id, email, email_verified_at: input.emailVerified ? at : null, display_name: input.displayName.trim() || email,
      password_hash: await hashPassword(input.password), mfa_enabled: 0, created_at: at, updated_at: at, disabled_at: null,
    })
    return { id, email }
  }

  /**
   * The first owner of an organization (init, `user create-owner`). Trusted: the
   * operator has shell access, so the email counts as verified. Without a password
   * a random one-time password is generated and returned once: it signs in once, and
   * that session can do nothing but replace it and enrol MFA (forced for owners).
   */
  async function createOwner(orgId: string, email: string, opts: { password?: string; displayName?: string } = {}) {
    const oneTimePassword = opts.password ? undefined : randomBytes(18).toString('base64url')
    const user = await db.transaction().execute(async (trx) => {
      const u = await createUser({ email, password: opts.password ?? oneTimePassword!, displayName: opts.displayName ?? '', emailVerified: true }, trx)
      if (oneTimePassword) await updateUser(trx, u.id, { password_change_required: 1 })
      await insertMembership(trx, orgId, u.id, 'owner', now())
      return u
    })
    deps.audit.record({ orgId, actor: { type: 'system', id: 'cli' }, action: 'member.added', target: { type: 'user', id: user.id }, outcome: 'success', details: { role: 'owner', newAccount: true } })
    return { userId: user.id, ...(oneTimePassword ? { oneTimePassword } : {}) }
  }

  async function sendVerificationEmail(ctx: SessionContext, meta: RequestMeta): Promise<void> {
    if (ctx.session.email_verified_at !== null) throw new AppError('conflict', 'This email address is already verified.')
    const token = newToken()
    await insertUserToken(db, { token_hash: hashToken(token), user_id: ctx.session.user_id, purpose: 'verify_email', created_at: now(), expires_at: now() + VERIFY_EMAIL_TTL_MS })
    const link = new URL(`/verify-email#token=${token}`, deps.publicUrl).toString()
    await deps.mail.send({ to: ctx.session.email, kind: 'verify_email', subject: 'Verify your email address', text: `Open this link to verify your email address (valid 24 hours):\n${link}\n\ntoken: ${token}\n` })
    deps.audit.record({ orgId: null, actor: { type: 'user', id: ctx.session.user_id }, action: 'user.verification_sent', outcome: 'success', ip: meta.ip, requestId: meta.requestId })
  }

  /** Public: the token is the proof. One message for unknown, used and expired tokens. */
  async function verifyEmail(token: string, meta: RequestMeta): Promise<void> {
    const userId = await spendUserToken(db, hashToken(token), 'verify_email', now())
    if (!userId) throw new AppError('not_found', 'This verification link is invalid or has expired.')
    await updateUser(db, userId, { email_verified_at: now(), updated_at: now() })
    deps.audit.record({ orgId: null, actor: { type: 'user', id: userId }, action: 'user.email_verified', outcome: 'success', ip: meta.ip, requestId: meta.requestId })
  }

  /**
   * Needs the current password; signs out every other session (a changed password ends them).
   * Replacing a one-time password lifts the session's `password` stage.
   */
  async function changePassword(ctx: SessionContext, current: string, next: string, meta: RequestMeta) {
    const user = await findUser(db, ctx.session.user_id)
    if (!user || !(await verifyPassword(user.password_hash, current))) {
      deps.audit.record({ orgId: null, actor: { type: 'user', id: ctx.session.user_id }, action: 'user.password_change_failed', outcome: 'failure', ip: meta.ip, requestId: meta.requestId })
      throw new AppError('unauthenticated', 'Current password is wrong.')
    }
    assertPasswordPolicy(next, user.email)
    if (next === current) throw new AppError('invalid_request', 'Choose a password different from the current one.', { details: [{ path: 'body/newPassword', message: 'same as the current password' }] })
    const replacedOneTime = user.password_change_required === 1
    await updateUser(db, user.id, { password_hash: await hashPassword(next), password_change_required: 0, updated_at: now() })
    const revoked = await deps.sessions.revokeAll(user.id, ctx.session.id)
    const token = await deps.sessions.rotate(ctx.session)
    deps.audit.record({ orgId: null, actor: { type: 'user', id: user.id }, action: 'user.password_changed', outcome: 'success', ip: meta.ip, requestId: meta.requestId, details: { otherSessionsRevoked: revoked, ...(replacedOneTime ? { replacedOneTimePassword: true } : {}) } })
    return { token, csrfToken: deps.sessions.csrfToken(token) }
  }

  async function updateProfile(ctx: SessionContext, input: { displayName: string }): Promise<void> {
    await updateUser(db, ctx.session.user_id, { display_name: input.displayName.trim(), updated_at: now() })
  }

  /**
   * Operator recovery (CLI): removes every second factor and recovery code and
   * signs the user out everywhere; an owner/admin must enrol again at next sign-in.
   */
  async function resetMfa(email: string, actor: AdminEvent['actor'], reason: string): Promise<{ userId: string; sessionsRevoked: number }> {
    const user = await findUserByEmail(db, email)
    if (!user) throw new AppError('not_found', 'User not found.')
    await deleteAllFactors(db, user.id)
    await updateUser(db, user.id, { mfa_enabled: 0, updated_at: now() })
    const sessionsRevoked = await deps.sessions.revokeAll(user.id)
    deps.audit.record({ orgId: null, actor, action: 'mfa.reset', target: { type: 'user', id: user.id }, outcome: 'success', details: { reason, sessionsRevoked } })
    return { userId: user.id, sessionsRevoked }
  }

  /**
   * Operator recovery (CLI) for a lost password, or a one-time password whose single
   * session was lost: a new one-time password (returned once), every session signed
   * out. Second factors stay: the user still needs theirs to get past the MFA stage.
   */
  async function issueOneTimePassword(email: string, actor: AdminEvent['actor'], reason: string): Promise<{ userId: string; oneTimePassword: string; sessionsRevoked: number }> {
    const user = await findUserByEmail(db, email)
    if (!user) throw new AppError('not_found', 'User not found.')
    const oneTimePassword = randomBytes(18).toString('base64url')
    await updateUser(db, user.id, { password_hash: await hashPassword(oneTimePassword), password_change_required: 1, one_time_password_used_at: null, updated_at: now() })
    const sessionsRevoked = await deps.sessions.revokeAll(user.id)
    deps.audit.record({ orgId: null, actor, action: 'user.password_reset', target: { type: 'user', id: user.id }, outcome: 'success', details: { reason, sessionsRevoked, oneTime: true } })
    return { userId: user.id, oneTimePassword, sessionsRevoked }
  }

  /** For callers that must check before creating other rows (the CLI creates the org first). */
  async function emailTaken(email: string): Promise<boolean> {
    return (await findUserByEmail(db, email)) !== undefined
  }

  return { createUser, createOwner, emailTaken, sendVerificationEmail, verifyEmail, changePassword, updateProfile, resetMfa, issueOneTimePassword }
}

export type AccountService = ReturnType<typeof createAccountService>
