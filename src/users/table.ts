import type { Generated, Selectable } from 'kysely'

/**
 * Users are global (one person, one login) and belong to organizations through
 * memberships. Secrets are never stored in the clear: passwords as argon2id,
 * session/invitation/verification tokens and recovery codes as SHA-256 (they are
 * high-entropy random values), TOTP secrets encrypted with FieldCipher.
 */
export interface UsersTable {
  id: string
  /** Lowercased, trimmed; unique. */
  email: string
  email_verified_at: number | null
  display_name: string
  /** argon2id PHC string */
  password_hash: string
  /** 0/1: at least one confirmed second factor (TOTP or passkey). */
  mfa_enabled: number
  created_at: number
  updated_at: number
  disabled_at: number | null
  /** 0/1: the password is a one-time password to replace (sessions may only change it and enrol MFA). */
  password_change_required: Generated<number>
  /** When the one-time password was used to sign in: it does not sign in a second time. */
  one_time_password_used_at: number | null
}

export interface UserTotpTable {
  user_id: string
  /** FieldCipher ciphertext of the base32 secret. */
  secret: string
  confirmed_at: number | null
  /** Last accepted RFC 6238 time step: codes at or before it are replays. */
  last_time_step: number | null
  created_at: number
}

export interface UserPasskeysTable {
  /** Credential id, base64url. */
  id: string
  user_id: string
  name: string
  /** COSE public key, base64url. */
  public_key: string
  counter: number
  /** JSON array of transports. */
  transports: string
  created_at: number
  last_used_at: number | null
}

export interface UserRecoveryCodesTable {
  id: string
  user_id: string
  code_hash: string
  created_at: number
  used_at: number | null
}

/** Single-use emailed tokens (email verification, password reset: system-mail/password-reset.ts). */
export interface UserTokensTable {
  token_hash: string
  user_id: string
  purpose: 'verify_email' | 'password_reset'
  created_at: number
  expires_at: number
  used_at: number | null
}

export interface SessionsTable {
  id: string
  token_hash: string
  user_id: string
  /** Organization the session acts in (null until the user has one). */
  org_id: string | null
  created_at: number
  last_seen_at: number
  /** When the password was checked. */
  authenticated_at: number
  /** Last successful second factor: drives the MFA gate and step-up. */
  mfa_verified_at: number | null
  ip: string
  user_agent: string
  revoked_at: number | null
  /** Pending WebAuthn ceremony (base64url challenge), bound to this session. */
  challenge: string | null
  challenge_purpose: 'register' | 'authenticate' | null
  challenge_expires_at: number | null
}

/**
 * Sign-in attempt counters for exponential back-off (keys: `ip:<addr>`, `acct:<sha256(email)>`, `mfa:<userId>`).
 * `failures` counts attempts reserved before checking (successes hand theirs back); see throttle.ts.
 */
export interface AuthThrottleTable {
  key: string
  failures: number
  first_failure_at: number
  last_failure_at: number
  blocked_until: number
}

export interface MembershipsTable {
  org_id: string
  user_id: string
  /** A built-in role name, or a custom role id (`role_…`). */
  role: string
  created_at: number
  updated_at: number
}

export interface CustomRolesTable {
  id: string
  org_id: string
  name: string
  description: string
  /** JSON array of scopes from access/scopes.ts */
  scopes: string
  /** JSON AccessConditions or null */
  conditions: string | null
  created_at: number
  updated_at: number
}

export interface InvitationsTable {
  id: string
  org_id: string
  email: string
  role: string
  token_hash: string
  invited_by: string | null
  created_at: number
  expires_at: number
  accepted_at: number | null
  accepted_by: string | null
  revoked_at: number | null
}

/** Per-organization sign-in policy. */
export interface OrgAuthPoliciesTable {
  org_id: string
  require_mfa: number
  updated_at: number
  updated_by: string | null
}

export interface UserTables {
  users: UsersTable
  user_totp: UserTotpTable
  user_passkeys: UserPasskeysTable
  user_recovery_codes: UserRecoveryCodesTable
  user_tokens: UserTokensTable
  sessions: SessionsTable
  auth_throttle: AuthThrottleTable
  memberships: MembershipsTable
  custom_roles: CustomRolesTable
  invitations: InvitationsTable
  org_auth_policies: OrgAuthPoliciesTable
}

export type UserRow = Selectable<UsersTable>
export type SessionRow = Selectable<SessionsTable>
export type CustomRoleRow = Selectable<CustomRolesTable>
export type InvitationRow = Selectable<InvitationsTable>
