import type { FastifyRequest } from 'fastify'
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JWK, type JWTPayload } from 'jose'
import { unauthenticated } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal, AccessConditions, Environment } from '../core/principal.ts'
import { isScope } from '../access/scopes.ts'
import type { Authenticator } from './authenticate.ts'
import { createDPoPVerifier, type DPoPVerifier } from './dpop.ts'

export interface OAuthTokenDeps {
  clock: Clock
  /** Expected `iss` and `aud` (resolved lazily: they may depend on the listening address). */
  issuer(): string
  audience(): string
  /** The published signing keys, held in memory; `reload` re-reads them (after a rotation elsewhere). */
  keys(): Promise<JWK[]>
  reloadKeys(): Promise<void>
}

/** What a verified token may do now (oauth/token-standing.ts decides it from the database on every request). */
export type Standing =
  | { ok: true; scopes: readonly string[]; environment: Environment; conditions?: AccessConditions }
  | { ok: false; reason: string }

export interface StandingInput { jti: string; client_id: string; sub: string; org_id: string; scope?: string; grant?: string; cgen?: number }

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/
const CLOCK_TOLERANCE_SEC = 5
/** An unknown kid triggers at most one key reload per this many ms (a forged kid cannot make us hammer the database). */
const RELOAD_EVERY_MS = 30_000

/** Verified signatures kept in memory: a client reuses one token for many requests (10 minutes). */
const VERIFIED_CACHE_SIZE = 10_000

export interface VerifiedAccessToken { payload: JWTPayload & Record<string, unknown>; expired: boolean }

/**
 * Verifies an RFC 9068 access token locally: ES256 signature against the cached
 * key set (no network), `typ: at+jwt`, `iss`, `aud`, `exp`/`nbf` against the
 * injected clock and required claims. Revocation is not its business: see `standing`.
 */
export function createAccessTokenVerifier(deps: OAuthTokenDeps) {
  let keySet: ReturnType<typeof createLocalJWKSet> | null = null
  let keysFrom: JWK[] | null = null
  let lastReload = 0

  // token → claims whose signature, typ, iss and aud were verified under the current key set.
  // Time claims are re-checked on every use; the cache is dropped whenever the key set changes.
  let verified = new Map<string, VerifiedAccessToken['payload']>()

  async function currentKeySet() {
    const keys = await deps.keys()
    if (keys !== keysFrom) { keySet = createLocalJWKSet({ keys }); keysFrom = keys; verified = new Map() }
    return keySet!
  }

  function stillCurrent(claims: VerifiedAccessToken['payload'], at: Date): boolean {
    const now = Math.floor(at.getTime() / 1000)
    return typeof claims.exp === 'number' && now - CLOCK_TOLERANCE_SEC < claims.exp
      && (typeof claims.nbf !== 'number' || now + CLOCK_TOLERANCE_SEC >= claims.nbf)
  }

  async function verifyOnce(token: string, currentDate: Date) {
    return jwtVerify(token, await currentKeySet(), {
      issuer: deps.issuer(), audience: deps.audience(), typ: 'at+jwt', algorithms: ['ES256'],
      currentDate, clockTolerance: CLOCK_TOLERANCE_SEC, requiredClaims: ['exp', 'iat', 'jti', 'client_id', 'sub', 'org_id'],
    })
  }

  async function verify(token: string, at: Date = deps.clock.now()) {
    await currentKeySet()
    const hit = verified.get(token)
    if (hit && stillCurrent(hit, at)) return hit
    try {
      const claims = (await verifyOnce(token, at)).payload as VerifiedAccessToken['payload']
      if (stillCurrent(claims, at)) {
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
        verified.set(token, claims)
      }
      return claims
    } catch (e) {
      const now = Date.now()
      if (e instanceof joseErrors.JWKSNoMatchingKey && now - lastReload > RELOAD_EVERY_MS) {
        lastReload = now
        await deps.reloadKeys()
        return (await verifyOnce(token, at)).payload as VerifiedAccessToken['payload']
      }
      throw e
    }
  }

  return { verify }
}

export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>

/**
 * JWT access tokens issued by Sealpost's authorization server → the same Principal as an API key.
 * `Bearer` for plain tokens; `DPoP` (with its proof header) for sender-constrained ones.
 */
export function createOAuthTokenAuthenticator(deps: OAuthTokenDeps & {
  verifier?: AccessTokenVerifier
  dpop?: DPoPVerifier
  /** Revocation, client, generation and membership, checked on every request: refused, or the scopes, environment and conditions in force. */
  standing(claims: StandingInput): Promise<Standing>
}): Authenticator {
  const verifier = deps.verifier ?? createAccessTokenVerifier(deps)
  const dpop = deps.dpop ?? createDPoPVerifier({ clock: deps.clock })
  return {
    name: 'oauth_token',
    matches: (token) => JWT_SHAPE.test(token),
    authenticate: (token) => principalOf(token, null),
    authenticateDPoP: (token, req) => principalOf(token, req),
  }

  async function principalOf(token: string, dpopRequest: FastifyRequest | null): Promise<Principal> {
    let claims: VerifiedAccessToken['payload']
    try {
      claims = await verifier.verify(token)
    } catch (e) {
      throw unauthenticated(e instanceof joseErrors.JWTExpired ? 'oauth_token_expired' : `oauth_token_invalid:${(e as { code?: string }).code ?? 'error'}`)
    }
    const clientId = String(claims.client_id)
    const jkt = claims.cnf && typeof claims.cnf === 'object' ? (claims.cnf as { jkt?: unknown }).jkt : undefined
    if (!dpopRequest) {
      // A DPoP-bound token is useless without its proof (RFC 9449 §7.1): never accept it as a plain bearer.
      if (jkt !== undefined) throw unauthenticated('oauth_dpop_token_as_bearer')
    } else {
      if (typeof jkt !== 'string') throw unauthenticated('oauth_dpop_scheme_unbound_token')
      const url = new URL(dpopRequest.url, deps.audience()).href
      await dpop.verify(dpopRequest.headers.dpop, { method: dpopRequest.method, url, accessToken: token, jkt })
    }
    const sub = String(claims.sub)
    // After the proof: an unproven DPoP request costs no database read.
    const standing = await deps.standing({
      jti: String(claims.jti), client_id: clientId, sub, org_id: String(claims.org_id),
      scope: typeof claims.scope === 'string' ? claims.scope : undefined,
      grant: typeof claims.grant === 'string' ? claims.grant : undefined,
      cgen: typeof claims.cgen === 'number' ? claims.cgen : undefined,
    })
    if (!standing.ok) throw unauthenticated(standing.reason)
    // The token's environment and conditions are those of the client (and the user's role) it came from.
    return {
      orgId: String(claims.org_id),
      actor: sub === clientId ? { type: 'oauth_client', id: clientId } : { type: 'user', id: sub },
      scopes: standing.scopes.filter(isScope),
      environment: standing.environment,
      credentialId: clientId,
      ...(standing.conditions ? { conditions: standing.conditions } : {}),
    }
  }
}
