import type { AccessConditions } from '../core/principal.ts'

/**
 * What the login, MFA and consent pages need from users/. app.ts adapts the
 * users service to this shape, so oauth/ depends on no other domain's code.
 */
export type PasswordOutcome =
  | { ok: false; reason: 'invalid_credentials' | 'throttled'; retryAfterSec?: number }
  /** `mfa`: `required` = enrolled, ask for a code; `enrol` = must enrol first (cannot authorize apps until then). */
  | { ok: true; userId: string; mfa: 'required' | 'enrol' | 'none' }

export interface OAuthUsers {
  /** Same outcome for an unknown email and a wrong password; throttles per account and IP. */
  checkPassword(email: string, password: string, ip: string): Promise<PasswordOutcome>
  /** TOTP or recovery code; replayed codes are refused. */
  verifySecondFactor(userId: string, code: string, ip: string): Promise<boolean>
  /** Scopes the user holds in the organization, or null when not a member. */
  effectiveScopes(userId: string, orgId: string): Promise<readonly string[] | null>
  /**
   * What the user holds in the organization right now: scopes and the role's ABAC conditions; null when
   * not a member or deactivated. Read on every request made with a user's token and at every token
   * issue, so a role change, removal or deactivation reaches tokens already out. Without it,
   * effectiveScopes is used (no role conditions).
   */
  memberAccess?(userId: string, orgId: string): Promise<{ scopes: readonly string[]; conditions?: AccessConditions } | null>
  /** Display name or email for the pages (never used as an identifier). */
  displayName(userId: string): Promise<string | null>
}

/** Until a users service is wired: nobody can sign in on the OAuth pages (client credentials still work). */
export const noUsers: OAuthUsers = {
  checkPassword: async () => ({ ok: false, reason: 'invalid_credentials' }),
  verifySecondFactor: async () => false,
  effectiveScopes: async () => null,
  memberAccess: async () => null,
  displayName: async () => null,
}
