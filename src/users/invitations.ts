import { AppError } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { UsersDeps, RequestMeta } from './deps.ts'
import type { AccountService } from './accounts.ts'
import { assertValidEmail } from './accounts.ts'
import { stageError, type SessionContext } from './gate.ts'
import type { MemberService } from './members.ts'
import {
  findInvitation, findInvitationByTokenHash, findMembership, insertInvitation, insertMembership, listPendingInvitations, markInvitation,
} from './membership-store.ts'
import { findUserByEmail } from './store.ts'
import { hashToken, newToken } from './tokens.ts'

const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000
const INVALID = 'This invitation is invalid, expired or already used.'

/**
 * Invitations: an admin invites an email with a role; the token travels only by
 * email (never in an API response), so accepting proves the inbox. A new person
 * sets a password on accept (their email is then verified); an existing user must
 * be signed in as that email. The role is re-checked at creation against the
 * inviter (no granting more than they hold).
 */
export function createInvitationService(deps: UsersDeps, members: MemberService, accounts: AccountService) {
  const { db } = deps
  const now = () => deps.clock.now().getTime()

  async function invite(p: Principal, input: { email: string; role: string }, meta: RequestMeta) {
    deps.stepUp.require(p)
    const email = assertValidEmail(input.email)
    await members.assertGrantable(p, input.role)
    const existing = await findUserByEmail(db, email)
    if (existing && (await findMembership(db, p.orgId, existing.id))) throw new AppError('conflict', 'This person is already a member.')
    // A new invitation to the same email replaces pending ones (one live token per person and org).
    for (const old of (await listPendingInvitations(db, p.orgId, now())).filter((i) => i.email === email)) {
      await markInvitation(db, p.orgId, old.id, { revoked_at: now() })
    }
    const at = now()
    const id = newId('inv', at)
    const token = newToken()
    await insertInvitation(db, { id, org_id: p.orgId, email, role: input.role, token_hash: hashToken(token), invited_by: p.actor.id, created_at: at, expires_at: at + INVITATION_TTL_MS, accepted_at: null, accepted_by: null, revoked_at: null })
    const link = new URL(`/accept-invitation#token=${token}`, deps.publicUrl).toString()
    await deps.mail.send({ to: email, kind: 'invitation', orgId: p.orgId, subject: 'You are invited to a Sealpost organization', text: `You have been invited to join an organization on Sealpost.\nAccept within 7 days:\n${link}\n\ntoken: ${token}\n` })
    deps.audit.record({ orgId: p.orgId, actor: p.actor, action: 'invitation.created', target: { type: 'invitation', id }, outcome: 'success', ip: meta.ip, requestId: meta.requestId, details: { role: input.role } })
    return { id, email, role: input.role, createdAt: at, expiresAt: at + INVITATION_TTL_MS }
  }

  async function pending(p: Principal) {
    return (await listPendingInvitations(db, p.orgId, now())).map((i) => ({ id: i.id, email: i.email, role: i.role, invitedBy: i.invited_by, createdAt: i.created_at, expiresAt: i.expires_at }))
  }

  async function revoke(p: Principal, id: string, meta: RequestMeta) {
    const inv = await findInvitation(db, p.orgId, id)
    if (!inv || !(await markInvitation(db, p.orgId, id, { revoked_at: now() }))) throw new AppError('not_found', 'Invitation not found.')
    deps.audit.record({ orgId: p.orgId, actor: p.actor, action: 'invitation.revoked', target: { type: 'invitation', id }, outcome: 'success', ip: meta.ip, requestId: meta.requestId })
  }

  /**
   * Public. Returns the user who joined, and whether an account was created
   * (then the caller signs them in with the password they just chose).
   */
  async function accept(token: string, input: { password?: string; displayName?: string }, signedIn: SessionContext | null, meta: RequestMeta) {
    const inv = await findInvitationByTokenHash(db, hashToken(token))
    if (!inv || inv.accepted_at !== null || inv.revoked_at !== null || inv.expires_at <= now()) throw new AppError('not_found', INVALID)
    const existing = await findUserByEmail(db, inv.email)
    let userId: string
    let created = false
    if (existing) {
      if (!signedIn || signedIn.session.user_id !== existing.id || signedIn.stage === 'mfa') {
        throw new AppError('unauthenticated', 'Sign in as the invited user, then accept the invitation.')
      }
      if (signedIn.stage === 'password') throw stageError('password')
      userId = existing.id
    } else {
      if (!input.password) throw new AppError('invalid_request', 'Choose a password to create your account.', { details: [{ path: 'body/password', message: 'required for a new account' }] })
      userId = (await accounts.createUser({ email: inv.email, password: input.password, displayName: input.displayName ?? '', emailVerified: true })).id
      created = true
    }
    // Claim the invitation first: of two parallel accepts, one wins.
    if (!(await markInvitation(db, inv.org_id, inv.id, { accepted_at: now(), accepted_by: userId }))) throw new AppError('not_found', INVALID)
    if (!(await findMembership(db, inv.org_id, userId))) await insertMembership(db, inv.org_id, userId, inv.role, now())
    deps.audit.record({ orgId: inv.org_id, actor: { type: 'user', id: userId }, action: 'member.added', target: { type: 'user', id: userId }, outcome: 'success', ip: meta.ip, requestId: meta.requestId, details: { role: inv.role, invitation: inv.id, invitedBy: inv.invited_by, newAccount: created } })
    return { orgId: inv.org_id, userId, role: inv.role, created, email: inv.email }
  }

  return { invite, pending, revoke, accept }
}

export type InvitationService = ReturnType<typeof createInvitationService>
