import { AppError, unauthenticated } from '../core/errors.ts'
import type { UsersDeps, RequestMeta } from './deps.ts'
import { totpCipherContext } from './deps.ts'
import { stageOf, type SessionContext, type SessionStage } from './gate.ts'
import { memberAccess } from './effective-scopes.ts'
import { listUserMemberships } from './membership-store.ts'
import { dummyHash, verifyPassword, warmDummyHash } from './password.ts'
import { matchRecoveryCode } from './recovery-codes.ts'
import {
  advanceTotpStep, findPasskey, findTotp, findUserByEmail, listPasskeys, spendOneTimePassword, spendRecoveryCode, touchPasskey, unusedRecoveryCodes,
} from './store.ts'
import { clearFailures, refundAttempt, reserveAttempt, throttleKey } from './throttle.ts'
import { checkTotp } from './totp.ts'
import { authenticationOptions, verifyAuthentication, type AuthenticationResponseJSON } from './webauthn.ts'

export type MfaMethod = 'totp' | 'webauthn' | 'recovery_code'

export interface SignedIn {
  sessionId: string
  /** The new session token: goes in the cookie, never in a response body or log. */
  token: string
  csrfToken: string
  next: SessionStage
  /** Second factors the user can use now (when next is `mfa`). */
  methods: MfaMethod[]
  orgId: string | null
  /** After a recovery code was spent: how many are left (prompt to regenerate). */
  recoveryCodesLeft?: number
}

type FactorCheck = { ok: boolean; method: MfaMethod; reason?: string }

export type SecondFactor = { totp: string } | { recoveryCode: string } | { webauthn: AuthenticationResponseJSON }

const TOO_MANY = 'Too many failed attempts. Try again later.'

/** Seams for tests: observe (or hold) each secret check, to count how many guesses were evaluated. */
export interface AuthHooks {
  /** Runs right before a password (argon2) or second-factor check. */
  beforeSecretCheck?: (kind: 'password' | 'mfa') => void | Promise<void>
}

/**
 * Sign-in and second factors, without HTTP (the JSON API and the OAuth login
 * pages both call this). Every failure is audited; the caller only ever sees
 * one message, whichever check failed.
 */
export function createAuthService(deps: UsersDeps, hooks: AuthHooks = {}) {
  const { db, sessions, audit } = deps
  const now = () => deps.clock.now().getTime()
  warmDummyHash()

  const throttled = (wait: number) => new AppError('rate_limited', TOO_MANY, { headers: { 'retry-after': String(Math.ceil(wait / 1000)) } })

  function recordAudit(meta: RequestMeta, userId: string | null, action: string, outcome: 'success' | 'failure', details?: Record<string, unknown>) {
    audit.record({
      orgId: null, actor: userId ? { type: 'user', id: userId } : { type: 'system', id: 'anonymous' },
      action, outcome, ip: meta.ip, requestId: meta.requestId, details,
      ...(userId ? { target: { type: 'user', id: userId } } : {}),
    })
  }

  async function methodsOf(userId: string): Promise<MfaMethod[]> {
    const [totp, passkeys, codes] = await Promise.all([findTotp(db, userId), listPasskeys(db, userId), unusedRecoveryCodes(db, userId)])
    const m: MfaMethod[] = []
    if (totp?.confirmed_at) m.push('totp')
    if (passkeys.length) m.push('webauthn')
    if (codes.length) m.push('recovery_code')
    return m
  }

  /**
   * The password check alone. Order matters: the attempt is reserved before hashing
   * (a refused one costs no argon2, and parallel attempts cannot all slip through);
   * argon2 runs for unknown emails too (same timing); one error for unknown email,
   * wrong password, disabled account and a one-time password used before.
   * `oneTimePassword`: `spend` (the JSON sign-in, whose session can replace it), else
   * refused (callers that cannot offer the password change: 403 password_change_required).
   */
  async function checkPassword(email: string, password: string, meta: RequestMeta, opts: { oneTimePassword?: 'spend' } = {}) {
    const acct = throttleKey.acct(email)
    const ip = throttleKey.ip(meta.ip)
    const reservation = await reserveAttempt(db, [acct, ip], now())
    if (!reservation.ok) {
      recordAudit(meta, null, 'user.login_failed', 'failure', { reason: 'throttled' })
      throw throttled(reservation.waitMs)
    }
    const user = await findUserByEmail(db, email)
    await hooks.beforeSecretCheck?.('password')
    const ok = await verifyPassword(user ? user.password_hash : await dummyHash(), password)
    let reason = !user ? 'unknown_user' : !ok ? 'wrong_password' : user.disabled_at !== null ? 'disabled' : null
    const oneTime = user?.password_change_required === 1
    if (!reason && oneTime && user?.one_time_password_used_at !== null) reason = 'one_time_password_reused'
    if (user && !reason && oneTime && opts.oneTimePassword !== 'spend') {
      await settled(acct, ip)
      recordAudit(meta, user.id, 'user.login_failed', 'failure', { reason: 'one_time_password_elsewhere' })
      throw new AppError('password_change_required', 'Sign in to the dashboard first to replace your one-time password.')
    }
    // Single use: the conditional update lets exactly one of two parallel sign-ins spend it.
    if (user && !reason && oneTime && !(await spendOneTimePassword(db, user.id, now()))) reason = 'one_time_password_reused'
    if (!user || reason) {
      // The reservation stays: it is this failure's count.
      recordAudit(meta, user?.id ?? null, 'user.login_failed', 'failure', { reason })
      throw unauthenticated(reason ?? 'unknown_user')
    }
    await settled(acct, ip)
    return user
  }

  /** After a success: the account's (or user's) counter starts over; the IP gets its reservation back. */
  async function settled(subjectKey: string, ipKey: string) {
    await clearFailures(db, [subjectKey])
    await refundAttempt(db, [ipKey])
  }

  /** Password sign-in into a new session; the previous session, if any, is revoked (no session fixation). */
  async function login(input: { email: string; password: string; orgId?: string }, meta: RequestMeta, previousToken?: string | null): Promise<SignedIn> {
    const user = await checkPassword(input.email, input.password, meta, { oneTimePassword: 'spend' })
    const memberships = await listUserMemberships(db, user.id)
    const orgId = memberships.find((m) => m.org_id === input.orgId)?.org_id ?? memberships[0]?.org_id ?? null
    if (previousToken) {
      const previous = await sessions.resolve(previousToken)
      if (previous) await sessions.revoke(previous.user_id, previous.id)
    }
    const { id, token } = await sessions.create({ userId: user.id, orgId, ip: meta.ip, userAgent: meta.userAgent ?? '', mfaVerifiedAt: null })
    const access = orgId ? await memberAccess(db, orgId, user.id) : null
    const next = stageOf({ mfa_enabled: user.mfa_enabled, mfa_verified_at: null, password_change_required: user.password_change_required }, access)
    recordAudit(meta, user.id, 'user.login', 'success', { next, sid: id })
    return { sessionId: id, token, csrfToken: sessions.csrfToken(token), next, methods: next === 'mfa' ? await methodsOf(user.id) : [], orgId }
  }

  /** Whether any of the user's memberships demands MFA (for sign-ins that pick no organization). */
  async function mfaRequiredAnywhere(userId: string): Promise<boolean> {
    for (const m of await listUserMemberships(db, userId)) {
      if ((await memberAccess(db, m.org_id, userId))?.mfaRequired) return true
    }
    return false
  }

  /** Options for a passkey assertion, bound to this session (its challenge is stored on it). */
  async function webauthnOptions(ctx: SessionContext) {
    const passkeys = await listPasskeys(db, ctx.session.user_id)
    if (!passkeys.length) throw new AppError('invalid_request', 'No passkey is registered for this account.')
    const options = await authenticationOptions(deps.webauthn, passkeys)
    await sessions.setChallenge(ctx.session, options.challenge, 'authenticate')
    return options
  }

  async function checkCode(userId: string, factor: { totp: string } | { recoveryCode: string }): Promise<FactorCheck> {
    if ('totp' in factor) {
      const row = await findTotp(db, userId)
      if (!row?.confirmed_at) return { ok: false, method: 'totp', reason: 'not_enrolled' }
      const secret = await deps.cipher.decryptText(totpCipherContext(userId), row.secret)
      const r = await checkTotp(secret, factor.totp, now(), row.last_time_step)
      if (!r.ok) return { ok: false, method: 'totp', reason: r.reason }
      // The conditional update makes two parallel uses of one code count once.
      return (await advanceTotpStep(db, userId, r.timeStep)) ? { ok: true, method: 'totp' } : { ok: false, method: 'totp', reason: 'replayed' }
    }
    const codes = await unusedRecoveryCodes(db, userId)
    const i = matchRecoveryCode(deps.pepper, userId, factor.recoveryCode, codes.map((c) => c.code_hash))
    if (i < 0) return { ok: false, method: 'recovery_code', reason: 'invalid' }
    return (await spendRecoveryCode(db, userId, codes[i].id, now())) ? { ok: true, method: 'recovery_code' } : { ok: false, method: 'recovery_code', reason: 'replayed' }
  }

  async function checkFactor(ctx: SessionContext, factor: SecondFactor): Promise<FactorCheck> {
    const userId = ctx.session.user_id
    if (!('webauthn' in factor)) return checkCode(userId, factor)
    const challenge = await sessions.takeChallenge(ctx.session, 'authenticate')
    const passkey = await findPasskey(db, userId, factor.webauthn.id)
    if (!challenge || !passkey) return { ok: false, method: 'webauthn', reason: !challenge ? 'no_challenge' : 'unknown_credential' }
    const counter = await verifyAuthentication(deps.webauthn, factor.webauthn, challenge, passkey)
    if (counter === null) return { ok: false, method: 'webauthn', reason: 'invalid_assertion' }
    await touchPasskey(db, userId, passkey.id, counter, now())
    return { ok: true, method: 'webauthn' }
  }

  /** Throttled (reserved before checking, like passwords), audited check of any factor; throws one `unauthenticated` for every kind of failure. */
  async function guardedCheck(userId: string, meta: RequestMeta, check: () => Promise<FactorCheck>): Promise<MfaMethod> {
    const mfa = throttleKey.mfa(userId)
    const ip = throttleKey.ip(meta.ip)
    const reservation = await reserveAttempt(db, [mfa, ip], now())
    if (!reservation.ok) {
      recordAudit(meta, userId, 'user.mfa_failed', 'failure', { reason: 'throttled' })
      throw throttled(reservation.waitMs)
    }
    await hooks.beforeSecretCheck?.('mfa')
    const r = await check()
    if (!r.ok) {
      recordAudit(meta, userId, 'user.mfa_failed', 'failure', { method: r.method, reason: r.reason })
      throw new AppError('unauthenticated', 'The code or passkey was not accepted.', { cause: r.reason })
    }
    await settled(mfa, ip)
    return r.method
  }

  /** A TOTP or recovery code outside a browser session (the OAuth login pages). */
  async function verifyCode(userId: string, code: string, meta: RequestMeta): Promise<MfaMethod> {
    const factor = /^\d{6}$/.test(code) ? { totp: code } : { recoveryCode: code }
    const method = await guardedCheck(userId, meta, () => checkCode(userId, factor))
    recordAudit(meta, userId, 'user.mfa_verified', 'success', { method, purpose: 'oauth_sign_in' })
    return method
  }

  /**
   * A second factor, at sign-in or as a step-up. Success stamps the session's
   * `mfa_verified_at` and rotates its token (privilege change). Failures count
   * towards the per-user and per-IP back-off, so six digits cannot be brute-forced.
   */
  async function verifySecondFactor(ctx: SessionContext, factor: SecondFactor, meta: RequestMeta): Promise<SignedIn> {
    const userId = ctx.session.user_id
    const method = await guardedCheck(userId, meta, () => checkFactor(ctx, factor))
    const token = await sessions.rotate(ctx.session, { mfa_verified_at: now() })
    recordAudit(meta, userId, 'user.mfa_verified', 'success', { method, purpose: ctx.stage === 'mfa' ? 'sign_in' : 'step_up', sid: ctx.session.id })
    const remaining = method === 'recovery_code' ? (await unusedRecoveryCodes(db, userId)).length : undefined
    return { ...(await signedIn(ctx, token)), ...(remaining !== undefined ? { recoveryCodesLeft: remaining } : {}) }
  }

  async function signedIn(ctx: SessionContext, token: string): Promise<SignedIn> {
    const s = ctx.session
    const fresh = await sessions.resolve(token)
    const access = fresh?.org_id ? await memberAccess(db, fresh.org_id, s.user_id) : null
    const next = fresh ? stageOf(fresh, access) : 'mfa'
    return { sessionId: s.id, token, csrfToken: sessions.csrfToken(token), next, methods: [], orgId: fresh?.org_id ?? null }
  }

  /** Moves the session to another organization the user belongs to (a privilege change: new token). */
  async function switchOrg(ctx: SessionContext, orgId: string, meta: RequestMeta): Promise<SignedIn> {
    const access = await memberAccess(db, orgId, ctx.session.user_id)
    if (!access) throw new AppError('not_found', 'Organization not found.')
    const token = await sessions.rotate(ctx.session, { org_id: orgId })
    recordAudit(meta, ctx.session.user_id, 'session.org_switched', 'success', { orgId, sid: ctx.session.id })
    return signedIn(ctx, token)
  }

  /** Signs out this session, every session of the user, or every other one. */
  async function logout(ctx: SessionContext, meta: RequestMeta, scope: 'this' | 'all' | 'others' = 'this'): Promise<number> {
    const { user_id: userId, id } = ctx.session
    const n = scope === 'this' ? await sessions.revoke(userId, id) : await sessions.revokeAll(userId, scope === 'others' ? id : undefined)
    recordAudit(meta, userId, scope === 'this' ? 'user.logout' : 'user.logout_everywhere', 'success', { sessions: n, keptCurrent: scope === 'others' })
    return n
  }

  /** What the dashboard shows about the current session (no secrets but the CSRF token). */
  async function describe(ctx: SessionContext) {
    const s = ctx.session
    const memberships = await listUserMemberships(db, s.user_id)
    return {
      user: { id: s.user_id, email: s.email, displayName: s.display_name, emailVerified: s.email_verified_at !== null, mfaEnabled: s.mfa_enabled === 1 },
      session: { id: s.id, createdAt: s.created_at, mfaVerifiedAt: s.mfa_verified_at, stepUpFresh: sessions.isFresh(s.mfa_verified_at) },
      next: ctx.stage,
      methods: ctx.stage === 'mfa' ? await methodsOf(s.user_id) : [],
      orgId: s.org_id,
      role: ctx.access?.roleName ?? null,
      scopes: ctx.stage === 'full' ? ctx.access?.scopes ?? [] : [],
      organizations: memberships.map((m) => ({ id: m.org_id, name: m.org_name, role: m.role })),
      csrfToken: sessions.csrfToken(ctx.token),
    }
  }

  return { checkPassword, login, mfaRequiredAnywhere, verifyCode, webauthnOptions, verifySecondFactor, switchOrg, logout, describe, methodsOf }
}

export type AuthService = ReturnType<typeof createAuthService>
