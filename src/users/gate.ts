import { AppError } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { memberAccess, type MemberAccess } from './effective-scopes.ts'
import type { SessionManager } from './sessions.ts'
import type { SessionWithUser } from './session-store.ts'

/**
 * Where a signed-in session stands:
 * - `mfa`:   password given; the user has a second factor and has not used it yet;
 * - `password`: signed in with a one-time password: only changing it and enrolling
 *            MFA are open (everything else is 403 `password_change_required`);
 * - `enrol`: the user has no second factor but must (owner/admin role, a role that
 *            administers the org, or the org requires MFA): only enrolment is open;
 * - `full`:  everything the role allows.
 */
export type SessionStage = 'mfa' | 'password' | 'enrol' | 'full'

export interface SessionContext {
  token: string
  session: SessionWithUser
  /** Role in the session's organization, or null without one. */
  access: MemberAccess | null
  stage: SessionStage
}

export function stageOf(session: Pick<SessionWithUser, 'mfa_enabled' | 'mfa_verified_at' | 'password_change_required'>, access: MemberAccess | null): SessionStage {
  if (session.mfa_enabled === 1 && session.mfa_verified_at === null) return 'mfa'
  if (session.password_change_required === 1) return 'password'
  if (session.mfa_enabled === 1) return 'full'
  return access?.mfaRequired ? 'enrol' : 'full'
}

/** The refusal for a session that has not reached `full`, naming what it must do next. */
export function stageError(stage: Exclude<SessionStage, 'full'>): AppError {
  if (stage === 'password') {
    return new AppError('password_change_required', 'Replace your one-time password (and set up a second factor) before continuing.', { details: { next: 'password' } })
  }
  return new AppError('mfa_required', stage === 'mfa' ? 'Complete sign-in with your second factor.' : 'Set up a second factor before continuing.', {
    details: { next: stage },
  })
}

export type SessionGate = ReturnType<typeof createSessionGate>

export function createSessionGate(deps: { db: Db; sessions: SessionManager }) {
  async function load(token: string): Promise<SessionContext | null> {
    const session = await deps.sessions.resolve(token)
    if (!session) return null
    const access = session.org_id ? await memberAccess(deps.db, session.org_id, session.user_id) : null
    return { token, session, access, stage: stageOf(session, access) }
  }

  /** The Principal for organization routes; throws when the session may not act yet. */
  function principalOf(ctx: SessionContext): Principal {
    if (ctx.stage !== 'full') throw stageError(ctx.stage)
    if (!ctx.access || !ctx.session.org_id) throw new AppError('forbidden', 'This session has no organization. Accept an invitation or select an organization.')
    if (ctx.session.email_verified_at === null) {
      throw new AppError('forbidden', 'Verify your email address before acting in an organization.', { details: { next: 'verify_email' } })
    }
    return {
      orgId: ctx.session.org_id,
      actor: { type: 'user', id: ctx.session.user_id },
      scopes: ctx.access.scopes,
      environment: 'live',
      credentialId: ctx.session.id,
      conditions: ctx.access.conditions,
      mfaVerifiedAt: ctx.session.mfa_verified_at,
    }
  }

  return { load, principalOf }
}
