import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import type { MailSender } from './mail.ts'
import type { SessionManager } from './sessions.ts'
import type { StepUp } from './step-up.ts'
import type { WebAuthnConfig } from './webauthn.ts'

/** What every users/ service is built from (app.ts assembles it once). */
export interface UsersDeps {
  db: Db
  clock: Clock
  /** Server pepper: keys recovery-code HMACs and CSRF tokens. */
  pepper: string
  /** Encrypts TOTP secrets at rest. */
  cipher: FieldCipher
  audit: AuditRecorder
  mail: MailSender
  sessions: SessionManager
  stepUp: StepUp
  webauthn: WebAuthnConfig
  /** Base URL for links in emails (invitations, verification). */
  publicUrl: string
  /** Name shown in authenticator apps. */
  issuer: string
  /** oauth/: ends what a user's OAuth grants and refresh tokens still hold (membership removal, deactivation). */
  tokenRevocation?: TokenRevocationPort
}

/**
 * Called after the change is stored. Access tokens need no call (oauth/ re-reads the membership on
 * every request, and a role change cuts scopes at the next request and the next refresh).
 */
export interface TokenRevocationPort {
  memberRemoved(orgId: string, userId: string): Promise<void>
  accountDeactivated(userId: string): Promise<void>
}

/** Who and from where, for throttling and the audit trail. */
export interface RequestMeta {
  ip: string
  userAgent?: string
  requestId?: string
}

/**
 * TOTP secrets are user secrets, not an organization's: they are encrypted under a
 * per-user data key (owner `users`/<userId>), so deleting that key shreds them.
 */
export const totpCipherContext = (userId: string) => ({ orgId: 'users', subjectId: userId, table: 'user_totp', column: 'secret', rowId: userId })
