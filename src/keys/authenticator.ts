import { AppError, unauthenticated } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal, AccessConditions } from '../core/principal.ts'
import type { Authenticator } from '../auth/authenticate.ts'
import type { Db } from '../storage/db.ts'
import { parseKey, hashKey, sameHash } from './format.ts'
import { findSecretWithKey, touchKey } from './store.ts'
import type { KeyPolicy } from './policy.ts'

/** last_used_at/ip is written at most this often per key, so the auth path stays read-only almost always. */
const TOUCH_EVERY_MS = 60_000

export function createApiKeyAuthenticator(deps: { db: Db; pepper: string; clock: Clock; policy?: KeyPolicy }): Authenticator {
  const lastTouch = new Map<string, number>()
  return {
    name: 'api_key',
    matches: (token) => token.startsWith('sp_'),
    async authenticate(token, req): Promise<Principal> {
      const parsed = parseKey(token)
      if (!parsed) throw unauthenticated('bad_key_checksum')
      const row = await findSecretWithKey(deps.db, parsed.lookupId)
      // Hash even when no row matched, so timing does not reveal which lookup ids exist.
      const presented = hashKey(deps.pepper, token)
      if (!row || !sameHash(presented, row.hash)) throw unauthenticated('unknown_key')
      const now = deps.clock.now().getTime()
      if (row.revoked_at !== null) throw unauthenticated('revoked_key')
      if (row.secret_expires_at !== null && row.secret_expires_at <= now) throw unauthenticated('rotated_secret_expired')
      if (row.expires_at !== null && row.expires_at <= now) throw unauthenticated('expired_key')
      if (row.environment !== parsed.environment) throw unauthenticated('environment_mismatch')
      // Age counts from the secret's creation: rotating is how a key stays within the org's maximum age.
      const maxAge = deps.policy ? (await deps.policy.forOrg(row.org_id)).maxKeyAgeMs : null
      const agedOutAt = maxAge !== null ? row.secret_created_at + maxAge : Infinity
      if (agedOutAt <= now) throw unauthenticated('key_over_max_age')
      if (row.suspended_at !== null) {
        throw new AppError('key_suspended', 'This key is suspended after suspicious activity. An administrator must reinstate it.')
      }
      // The earliest of: the key's own expiry, the org's maximum age, the end of a rotation grace window.
      const expiry = Math.min(row.expires_at ?? Infinity, agedOutAt, row.secret_expires_at ?? Infinity)
      if (expiry !== Infinity) req.keyExpiresAt = expiry
      const last = lastTouch.get(row.id) ?? row.last_used_at ?? 0
      if (now - last >= TOUCH_EVERY_MS) {
        lastTouch.set(row.id, now)
        if (lastTouch.size > 100_000) lastTouch.clear()
        // Awaited but at most once a minute per key; a failed write never fails the request.
        await touchKey(deps.db, row.org_id, row.id, now, req.clientIp || req.ip).catch((err) => req.log.warn({ err }, 'last_used update failed'))
      }
      return {
        orgId: row.org_id,
        actor: { type: 'key', id: row.id },
        scopes: JSON.parse(row.scopes),
        environment: row.environment,
        credentialId: row.id,
        conditions: row.conditions ? (JSON.parse(row.conditions) as AccessConditions) : undefined,
      }
    },
  }
}
