import { AppError } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { memberAccess, type MemberAccess } from './effective-scopes.ts'
import type { SessionManager } from './sessions.ts'
import type { SessionWithUser } from './session-store.ts'

/**
 * Where a signed-in session stands:
 * - `mfa`:   password given; the user has a second factor and has not used it yet;
 * - `enrol`: the user has no second factor but must (owner/admin role, a role that
 *            administers the org, or the org requires MFA): only enrolment is open;
 * - `full`:  everything the role allows.
 */
export type SessionStage = 'mfa' | 'enrol' | 'full'

export interface SessionContext {
  token: string
  session: SessionWithUser
  /** Role in the session's organization, or null without one. */
  access: MemberAccess | null
  stage: SessionStage
}

export function stageOf(session: Pick<SessionWithUser, 'mfa_enabled' | 'mfa_verified_at'>, access: MemberAccess | null): SessionStage {
  if (session.mfa_enabled === 1) return session.mfa_verified_at === null ? 'mfa' : 'full'
  return access?.mfaRequired ? 'enrol' : 'full'
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
    if (ctx.stage !== 'full') {
      throw new AppError('mfa_required', ctx.stage === 'mfa' ? 'Complete sign-in with your second factor.' : 'Set up a second factor before continuing.', {
        details: { next: ctx.stage },
      })
    }
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
