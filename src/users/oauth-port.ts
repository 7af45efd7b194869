import { isAppError } from '../core/errors.ts'
import type { OAuthUsers, PasswordOutcome } from '../oauth/users-port.ts'
import type { Users } from './module.ts'
import { memberAccess } from './effective-scopes.ts'
import { findUser } from './store.ts'

/**
 * users/ behind the port the OAuth login pages use. Same throttling, timing and
 * audit trail as the JSON sign-in; outcomes instead of errors.
 */
export function oauthUsersPort(users: Users): OAuthUsers {
  const { db } = users.deps
  return {
    async checkPassword(email, password, ip): Promise<PasswordOutcome> {
      try {
        const user = await users.auth.checkPassword(email, password, { ip })
        const mfa = user.mfa_enabled === 1 ? 'required' : (await users.auth.mfaRequiredAnywhere(user.id)) ? 'enrol' : 'none'
        return { ok: true, userId: user.id, mfa }
      } catch (e) {
        if (isAppError(e) && e.code === 'rate_limited') {
          return { ok: false, reason: 'throttled', retryAfterSec: Number(e.headers['retry-after']) || undefined }
        }
        // A one-time password is replaced in the dashboard first; these pages cannot offer the change.
        if (isAppError(e) && (e.code === 'unauthenticated' || e.code === 'password_change_required')) return { ok: false, reason: 'invalid_credentials' }
        throw e
      }
    },
    async verifySecondFactor(userId, code, ip) {
      try {
        await users.auth.verifyCode(userId, code, { ip })
        return true
      } catch (e) {
        if (isAppError(e) && (e.code === 'unauthenticated' || e.code === 'rate_limited')) return false
        throw e
      }
    },
    async effectiveScopes(userId, orgId) {
      return (await memberAccess(db, orgId, userId))?.scopes ?? null
    },
    // Authoritative per request for OAuth tokens: a removed member or a deactivated account holds nothing.
    async memberAccess(userId, orgId) {
      const [access, user] = await Promise.all([memberAccess(db, orgId, userId), findUser(db, userId)])
      if (!access || !user || user.disabled_at !== null) return null
      return { scopes: access.scopes, conditions: access.conditions }
    },
    async displayName(userId) {
      const u = await findUser(db, userId)
      return u ? u.display_name || u.email : null
    },
  }
}
