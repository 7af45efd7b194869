import { AppError } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { UsersDeps, RequestMeta } from './deps.ts'
import { totpCipherContext } from './deps.ts'
import type { SessionContext } from './gate.ts'
import { hashRecoveryCode, newRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.ts'
import {
  advanceTotpStep, deleteAllFactors, deletePasskey, deleteTotp, findTotp, insertPasskey, listPasskeys, replaceRecoveryCodes,
  unusedRecoveryCodes, updateUser, upsertPendingTotp,
} from './store.ts'
import { checkTotp, newTotpSecret, totpUri } from './totp.ts'
import { registrationOptions, verifyRegistration, type RegistrationResponseJSON } from './webauthn.ts'

/**
 * Adding and removing second factors. Rules:
 * - a session still waiting for its second factor (`mfa`) cannot enrol a new one:
 *   otherwise a stolen password would be enough to add the thief's authenticator;
 * - adding a factor to an account that already has one needs a fresh step-up;
 * - the first factor comes with recovery codes (shown once) and counts as the
 *   session's second factor (the user just proved possession), with a new token;
 * - removing a factor needs a step-up and may not leave a user whose role
 *   requires MFA without one.
 */
export function createEnrolmentService(deps: UsersDeps) {
  const { db, sessions } = deps
  const now = () => deps.clock.now().getTime()

  function sessionPrincipal(ctx: SessionContext): Principal {
    return { orgId: ctx.session.org_id ?? '', actor: { type: 'user', id: ctx.session.user_id }, scopes: [], environment: 'live', credentialId: ctx.session.id, mfaVerifiedAt: ctx.session.mfa_verified_at }
  }

  function mayEnrol(ctx: SessionContext): void {
    if (ctx.stage === 'mfa') throw new AppError('mfa_required', 'Complete sign-in with your existing second factor first.', { details: { next: 'mfa' } })
    if (ctx.session.mfa_enabled === 1) deps.stepUp.require(sessionPrincipal(ctx))
  }

  function audit(ctx: SessionContext, meta: RequestMeta, action: string, details?: Record<string, unknown>) {
    deps.audit.record({ orgId: ctx.session.org_id, actor: { type: 'user', id: ctx.session.user_id }, target: { type: 'user', id: ctx.session.user_id }, action, outcome: 'success', ip: meta.ip, requestId: meta.requestId, details })
  }

  async function newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
    await replaceRecoveryCodes(db, userId, codes.map((c) => ({ id: newId('rcv', now()), code_hash: hashRecoveryCode(deps.pepper, userId, c) })), now())
    return codes
  }

  /** After a factor is confirmed: flag the user, hand out recovery codes once, upgrade the session. */
  async function factorAdded(ctx: SessionContext, meta: RequestMeta, method: string) {
    const userId = ctx.session.user_id
    const first = ctx.session.mfa_enabled !== 1
    await updateUser(db, userId, { mfa_enabled: 1, updated_at: now() })
    const recoveryCodes = first || (await unusedRecoveryCodes(db, userId)).length === 0 ? await newRecoveryCodes(userId) : null
    const token = await sessions.rotate(ctx.session, { mfa_verified_at: now() })
    audit(ctx, meta, 'mfa.enrolled', { method, first })
    return { token, csrfToken: sessions.csrfToken(token), recoveryCodes }
  }

  async function startTotp(ctx: SessionContext) {
    mayEnrol(ctx)
    const userId = ctx.session.user_id
    if ((await findTotp(db, userId))?.confirmed_at) throw new AppError('conflict', 'An authenticator app is already set up. Remove it first to replace it.')
    const secret = newTotpSecret()
    await upsertPendingTotp(db, userId, await deps.cipher.encrypt(totpCipherContext(userId), secret), now())
    // The secret is shown once, here, to be scanned; it is stored only encrypted.
    return { secret, uri: totpUri(secret, deps.issuer, ctx.session.email) }
  }

  async function confirmTotp(ctx: SessionContext, code: string, meta: RequestMeta) {
    mayEnrol(ctx)
    const userId = ctx.session.user_id
    const row = await findTotp(db, userId)
    if (!row || row.confirmed_at) throw new AppError('conflict', 'Start authenticator set-up first.')
    const secret = await deps.cipher.decryptText(totpCipherContext(userId), row.secret)
    const r = await checkTotp(secret, code, now(), row.last_time_step)
    if (!r.ok || !(await advanceTotpStep(db, userId, r.timeStep, now()))) {
      throw new AppError('invalid_request', 'The code does not match. Check the time on your device and try the next code.')
    }
    return factorAdded(ctx, meta, 'totp')
  }

  async function passkeyOptions(ctx: SessionContext) {
    mayEnrol(ctx)
    const s = ctx.session
    const options = await registrationOptions(deps.webauthn, { id: s.user_id, email: s.email, display_name: s.display_name }, await listPasskeys(db, s.user_id))
    await sessions.setChallenge(s, options.challenge, 'register')
    return options
  }

  async function addPasskey(ctx: SessionContext, response: RegistrationResponseJSON, name: string, meta: RequestMeta) {
    mayEnrol(ctx)
    const userId = ctx.session.user_id
    const challenge = await sessions.takeChallenge(ctx.session, 'register')
    const passkey = challenge ? await verifyRegistration(deps.webauthn, response, challenge) : null
    if (!passkey) throw new AppError('invalid_request', 'The passkey could not be verified. Start again.')
    try {
      await insertPasskey(db, { id: passkey.id, user_id: userId, name, public_key: passkey.publicKey, counter: passkey.counter, transports: JSON.stringify(passkey.transports), created_at: now(), last_used_at: null })
    } catch (e) {
      throw new AppError('conflict', 'This passkey is already registered.', { cause: e })
    }
    return { passkey: { id: passkey.id, name }, ...(await factorAdded(ctx, meta, 'webauthn')) }
  }

  async function listFactors(userId: string) {
    const [totp, passkeys, codes] = await Promise.all([findTotp(db, userId), listPasskeys(db, userId), unusedRecoveryCodes(db, userId)])
    return {
      totp: totp?.confirmed_at ? { enabled: true, createdAt: totp.confirmed_at } : { enabled: false, createdAt: null },
      passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.created_at, lastUsedAt: p.last_used_at })),
      recoveryCodesLeft: codes.length,
    }
  }

  /** Removal needs a step-up; the last factor goes only if no role or policy requires MFA. */
  async function removeFactor(ctx: SessionContext, which: { totp: true } | { passkeyId: string }, meta: RequestMeta) {
    deps.stepUp.require(sessionPrincipal(ctx))
    const userId = ctx.session.user_id
    const before = await listFactors(userId)
    const remaining = (before.totp.enabled ? 1 : 0) + before.passkeys.length - 1
    if ('passkeyId' in which && !before.passkeys.some((p) => p.id === which.passkeyId)) throw new AppError('not_found', 'Passkey not found.')
    if ('totp' in which && !before.totp.enabled) throw new AppError('not_found', 'No authenticator app is set up.')
    if (remaining === 0 && ctx.access?.mfaRequired) throw new AppError('conflict', 'Your role requires a second factor: add another one before removing this one.')
    if ('totp' in which) await deleteTotp(db, userId)
    else await deletePasskey(db, userId, which.passkeyId)
    if (remaining === 0) {
      await deleteAllFactors(db, userId)
      await updateUser(db, userId, { mfa_enabled: 0, updated_at: now() })
    }
    audit(ctx, meta, 'mfa.removed', { method: 'totp' in which ? 'totp' : 'webauthn', remaining })
  }

  async function regenerateRecoveryCodes(ctx: SessionContext, meta: RequestMeta) {
    deps.stepUp.require(sessionPrincipal(ctx))
    if (ctx.session.mfa_enabled !== 1) throw new AppError('conflict', 'Set up a second factor first.')
    const codes = await newRecoveryCodes(ctx.session.user_id)
    audit(ctx, meta, 'mfa.recovery_codes_regenerated')
    return codes
  }

  return { startTotp, confirmTotp, passkeyOptions, addPasskey, listFactors, removeFactor, regenerateRecoveryCodes }
}

export type EnrolmentService = ReturnType<typeof createEnrolmentService>
