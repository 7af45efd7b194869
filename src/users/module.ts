import { createAccountService } from './accounts.ts'
import type { UsersDeps } from './deps.ts'
import { createEnrolmentService } from './enrolment.ts'
import { createSessionGate } from './gate.ts'
import { createInvitationService } from './invitations.ts'
import { createMemberService } from './members.ts'
import { createAuthService } from './service.ts'
import { createSessionManager, type SessionTimeouts } from './sessions.ts'
import { createStepUp, type StepUp } from './step-up.ts'
import { pruneSessions } from './session-store.ts'
import { pruneThrottle } from './throttle.ts'
import type { WebAuthnConfig } from './webauthn.ts'

/** What the caller provides; the rest of UsersDeps (sessions, step-up, WebAuthn) is derived here. */
export interface UsersOptions extends Pick<UsersDeps, 'db' | 'clock' | 'pepper' | 'cipher' | 'audit' | 'mail' | 'publicUrl' | 'tokenRevocation'> {
  issuer?: string
  timeouts?: Partial<SessionTimeouts>
  /** Origins allowed on state-changing browser requests; default: the public URL's. Empty: the request's Host. */
  allowedOrigins?: string[]
  /** Shared with other domains (keys/) so all use one window; default: one built here. */
  stepUp?: StepUp
}

/** Derives the WebAuthn relying party from the public URL: RP ID = host name, origin = its origin. */
export function webAuthnFor(publicUrl: string, rpName: string): WebAuthnConfig {
  const u = new URL(publicUrl)
  return { rpId: u.hostname, rpName, origins: [u.origin] }
}

/** Builds every users/ service once (called from app.ts and the CLI). */
export function createUsers(opts: UsersOptions) {
  const sessions = createSessionManager({ db: opts.db, clock: opts.clock, pepper: opts.pepper, timeouts: opts.timeouts })
  const issuer = opts.issuer ?? 'Sealpost'
  const deps: UsersDeps = {
    db: opts.db, clock: opts.clock, pepper: opts.pepper, cipher: opts.cipher, audit: opts.audit, mail: opts.mail,
    sessions, stepUp: opts.stepUp ?? createStepUp({ clock: opts.clock, windowMs: sessions.timeouts.stepUpMs }),
    webauthn: webAuthnFor(opts.publicUrl, issuer), publicUrl: opts.publicUrl, issuer,
    tokenRevocation: opts.tokenRevocation,
  }
  const accounts = createAccountService(deps)
  const members = createMemberService(deps)
  return {
    deps,
    sessions,
    stepUp: deps.stepUp,
    gate: createSessionGate({ db: opts.db, sessions }),
    auth: createAuthService(deps),
    enrolment: createEnrolmentService(deps),
    accounts,
    members,
    invitations: createInvitationService(deps, members, accounts),
    /** Housekeeping for a periodic job: drops sessions ended over 30 days ago and stale brute-force counters. */
    async prune(): Promise<void> {
      const now = opts.clock.now().getTime()
      await pruneSessions(opts.db, now - 30 * 24 * 60 * 60_000)
      await pruneThrottle(opts.db, now)
    },
    /** Origins allowed on state-changing browser requests. */
    allowedOrigins: opts.allowedOrigins ?? [new URL(opts.publicUrl).origin],
  }
}

export type Users = ReturnType<typeof createUsers>
