import type { Db } from '../storage/db.ts'
import type { AccessConditions, Environment } from '../core/principal.ts'
import { intersectConditions } from '../access/containment.ts'
import type { RevocationList } from './revocations.ts'
import type { OAuthUsers } from './users-port.ts'
import { clientConditions } from './clients/service.ts'
import { findClientForProvider } from './clients/store.ts'

/** What a verified access token may do right now, or why it may do nothing. */
export type TokenStanding =
  | { ok: true; scopes: readonly string[]; environment: Environment; conditions?: AccessConditions }
  | { ok: false; reason: string }

export interface StandingClaims {
  jti: string
  client_id: string
  sub: string
  org_id: string
  scope?: string
  grant?: string
  cgen?: number
}

/**
 * A JWT access token is self-contained, but what it may do is decided again on every request from the
 * source of truth (the database), so revocation reaches tokens already out on their NEXT request, in
 * every process (no mirror delay):
 * - the token, its grant or its client revoked (oauth_revocations)       → refused
 * - the client deleted, or moved to another organization                 → refused
 * - the client's secret rotated since the token was minted (generation)  → refused
 * - a user's token: the user removed from the organization or deactivated → refused;
 *   demoted → the token's scopes are cut to what the role holds now
 * What remains carries the client's environment and conditions (IP, time, environment), intersected with
 * the user's role conditions for user tokens, so access/'s ABAC applies to tokens as to keys.
 * Cost: two or three indexed point reads per request made with an OAuth token (an API key costs one).
 */
export function createTokenStanding(deps: { db: Db; revocations: RevocationList; users: OAuthUsers }) {
  return async function standing(claims: StandingClaims): Promise<TokenStanding> {
    const ref = { jti: claims.jti, clientId: claims.client_id, grantRef: claims.grant }
    const [revoked, client] = await Promise.all([deps.revocations.isRevokedNow(ref), findClientForProvider(deps.db, claims.client_id)])
    if (revoked) return { ok: false, reason: 'oauth_token_revoked' }
    if (!client || client.org_id !== claims.org_id) return { ok: false, reason: 'oauth_client_gone' }
    if ((claims.cgen ?? 0) !== Number(client.token_generation)) return { ok: false, reason: 'oauth_client_secret_rotated' }
    const clientScopes: string[] = JSON.parse(client.scopes)
    let scopes = (claims.scope ?? '').split(' ').filter((s) => s && clientScopes.includes(s))
    let conditions = clientConditions(client) ?? undefined
    if (claims.sub !== claims.client_id) {
      const access: { scopes: readonly string[]; conditions?: AccessConditions } | null = deps.users.memberAccess
        ? await deps.users.memberAccess(claims.sub, client.org_id)
        : await deps.users.effectiveScopes(claims.sub, client.org_id).then((s) => (s ? { scopes: s } : null))
      if (!access) return { ok: false, reason: 'oauth_user_no_longer_member' }
      scopes = scopes.filter((s) => access.scopes.includes(s))
      conditions = intersectConditions(access.conditions, conditions)
    }
    return { ok: true, scopes, environment: client.environment, conditions }
  }
}

export type TokenStandingCheck = ReturnType<typeof createTokenStanding>
