import type { FastifyPluginAsync } from 'fastify'
import type Provider from 'oidc-provider'
import type { AdapterPayload } from 'oidc-provider'
import { createHmac } from 'node:crypto'
import type { JWK } from 'jose'
import type { Clock } from '../core/clock.ts'
import { MINUTE } from '../core/clock.ts'
import { discardAudit, type AuditRecorder } from '../core/audit-sink.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import type { Authenticator } from '../auth/authenticate.ts'
import { createAccessTokenVerifier, createOAuthTokenAuthenticator } from '../auth/oauth-token.ts'
import { createAtRest } from './at-rest.ts'
import { accountHash, createAdapterFactory } from './adapter.ts'
import { deleteArtifactsOf, purgeExpiredArtifacts } from './artifact-store.ts'
import { createKeyRing, type KeyRingPolicy, type LoadedKeys } from './signing-keys.ts'
import { createRevocationList } from './revocations.ts'
import { buildProvider, TTL } from './provider.ts'
import { providerMount } from './mount.ts'
import { jwtTokenEndpoints } from './jwt-token-endpoints.ts'
import { interactionRoutes } from './interactions/routes.ts'
import { createOAuthClientService } from './clients/service.ts'
import { oauthClientRoutes } from './clients/routes.ts'
import { findClientForProvider } from './clients/store.ts'
import { createTokenStanding } from './token-standing.ts'
import type { OAuthUsers } from './users-port.ts'
import { ALL_SCOPES } from '../access/scopes.ts'

export interface OAuthDeps {
  db: Db
  clock: Clock
  pepper: string
  cipher: FieldCipher
  /** Public base URL of this server (`https://mail.example.com`); resolved on first use, since it may be the listening address. */
  baseUrl(): string
  users: OAuthUsers
  orgName(orgId: string): Promise<string | null>
  audit?: AuditRecorder
  trustProxy?: boolean
  keyPolicy?: KeyRingPolicy
  /** Background upkeep (key reload, revocation sync, purge); 0 disables the timer (tests call maintain()). */
  maintenanceEveryMs?: number
}

/** Access tokens live 10 minutes; revocations and retired keys are kept a little longer for clock skew. */
const AFTER_LAST_TOKEN_MS = TTL.accessToken * 1000 + MINUTE

/**
 * The OAuth 2.1 authorization server (oidc-provider under /oauth, on Sealpost's
 * database) and the resource-server side that accepts its access tokens on /v1.
 */
export function createOAuth(deps: OAuthDeps) {
  const { db, clock, pepper } = deps
  const audit = deps.audit ?? discardAudit
  const atRest = createAtRest(deps.cipher)
  const derive = (label: string) => createHmac('sha256', pepper).update(`sealpost-oauth:${label}`).digest('base64url')
  const keyRing = createKeyRing({ db, clock, atRest, policy: deps.keyPolicy ?? { publishLeadMs: 15 * MINUTE, retainMs: AFTER_LAST_TOKEN_MS, rotateAfterMs: 30 * 24 * 60 * MINUTE } })
  const revocations = createRevocationList({ db, clock, ttlMs: AFTER_LAST_TOKEN_MS })
  const grantRef = (grantId: string) => atRest.lookupHash('grant-claim', grantId)
  const issuer = () => `${deps.baseUrl()}/oauth`
  const apiResource = () => `${deps.baseUrl()}/v1`

  let keys: LoadedKeys | null = null
  let provider: Provider | null = null
  let starting: Promise<Provider> | null = null

  const clients = createOAuthClientService({ db, pepper, clock, audit, ...clientTokenHooks(db, revocations) })
  const standing = createTokenStanding({ db, revocations, users: deps.users })
  const accountScopes = async (userId: string, orgId: string) => deps.users.memberAccess
    ? (await deps.users.memberAccess(userId, orgId))?.scopes ?? null
    : deps.users.effectiveScopes(userId, orgId)

  const adapter = createAdapterFactory({
    db, clock, atRest,
    findClient: async (id) => {
      const row = await findClientForProvider(db, id)
      if (!row) return undefined
      const grantTypes: string[] = JSON.parse(row.grant_types)
      return {
        client_id: row.id, client_name: row.name, application_type: row.application_type,
        token_endpoint_auth_method: row.token_endpoint_auth_method,
        ...(row.secret_hash ? { client_secret: row.secret_hash } : {}),
        grant_types: grantTypes, response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
        redirect_uris: JSON.parse(row.redirect_uris),
        org_id: row.org_id, sealpost_scopes: (JSON.parse(row.scopes) as string[]).join(' '), sealpost_environment: row.environment,
        sealpost_token_generation: String(row.token_generation),
      } as AdapterPayload
    },
    onGrantRevoked: async (grantId) => {
      await revocations.revokeGrant(grantRef(grantId))
      audit.record({ orgId: null, actor: { type: 'system', id: 'oauth' }, action: 'oauth.grant_revoked' })
    },
  })

  function build(k: LoadedKeys): Provider {
    const p = buildProvider({
      issuer: issuer(), apiResource: apiResource(), keys: k, adapter, pepper, proxy: deps.trustProxy ?? false,
      cookieKeys: [derive('cookies')], grantRef,
      accountExists: async (id) => (await deps.users.displayName(id)) !== null,
      accountScopes,
    })
    p.on('grant.error', (ctx: any, err: Error) => {
      if (/already used/.test(err.message)) {
        // A replayed refresh token or code: oidc-provider has revoked the whole grant.
        audit.record({ orgId: ctx?.oidc?.client?.org_id ?? null, actor: { type: 'oauth_client', id: String(ctx?.oidc?.client?.clientId ?? 'unknown') }, action: 'oauth.token_replay_detected', outcome: 'failure', ip: ctx?.ip })
      }
    })
    return p
  }

  /** Loads keys; rebuilds the provider when the published set or the active key changed. */
  async function reloadKeys(): Promise<void> {
    const k = await keyRing.load(keys)
    if (k === keys) return
    keys = k
    if (provider) provider = build(k)
  }

  async function getProvider(): Promise<Provider> {
    if (provider) return provider
    starting ??= (async () => {
      if (!keys) await reloadKeys()
      await revocations.refresh()
      provider = build(keys!)
      return provider
    })()
    try { return await starting } finally { starting = null }
  }

  const verifier = createAccessTokenVerifier({
    clock, issuer, audience: apiResource,
    keys: async () => { if (!keys) await reloadKeys(); return keys!.publicJwks as JWK[] },
    reloadKeys,
  })
  const authenticator: Authenticator = createOAuthTokenAuthenticator({
    clock, issuer, audience: apiResource, verifier,
    keys: async () => keys!.publicJwks as JWK[], reloadKeys, standing,
  })

  const routes: FastifyPluginAsync = async (app) => {
    await app.register(providerMount(getProvider))
    await app.register(jwtTokenEndpoints(getProvider, {
      async inspect(token) {
        const now = clock.now()
        try {
          const claims = await verifier.verify(token, now)
          const standingNow = await standing({
            jti: String(claims.jti), client_id: String(claims.client_id), sub: String(claims.sub), org_id: String(claims.org_id),
            grant: typeof claims.grant === 'string' ? claims.grant : undefined, cgen: typeof claims.cgen === 'number' ? claims.cgen : undefined,
          })
          return { claims, active: standingNow.ok }
        } catch { /* maybe expired */ }
        try {
          // Expired tokens are still "ours" (revocation of one is a no-op; introspection says inactive).
          const claims = await verifier.verify(token, new Date(0))
          return { claims, active: false }
        } catch { return null }
      },
      revoke: (jti) => revocations.revokeToken(jti),
    }))
    // RFC 9728: where a client learns which authorization server issues tokens for the API.
    app.get('/.well-known/oauth-protected-resource/v1', { config: { public: true } }, async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=3600').send({
        resource: apiResource(), authorization_servers: [issuer()], scopes_supported: ALL_SCOPES,
        bearer_methods_supported: ['header'], resource_signing_alg_values_supported: ['ES256'],
      }))
    await app.register(interactionRoutes({ getProvider, users: deps.users, db, clock, audit, apiResource, orgName: deps.orgName, csrfKey: derive('csrf') }))
    await app.register(oauthClientRoutes(clients))
  }

  /** Periodic upkeep; safe to run in every process. */
  async function maintain(): Promise<void> {
    await keyRing.rotateIfDue()
    await reloadKeys()
    await revocations.refresh()
    await purgeExpiredArtifacts(db, clock.now().getTime())
  }

  let timer: NodeJS.Timeout | null = null
  const every = deps.maintenanceEveryMs ?? 5_000
  if (every > 0) {
    timer = setInterval(() => { maintain().catch(() => { /* next tick retries; the database may be briefly away */ }) }, every)
    timer.unref()
  }

  /**
   * users/ calls these (app.ts wires them): a removed member's or a deactivated account's grants and
   * refresh tokens are deleted at once; their access tokens are refused on the next request anyway
   * (token-standing reads the membership). A role change needs nothing here: every token issue and
   * every request cuts the scopes to the role's current ones.
   */
  const tokenRevocation = {
    async memberRemoved(orgId: string, userId: string): Promise<void> {
      const orgClients = await db.selectFrom('oauth_clients').select('id').where('org_id', '=', orgId).execute()
      const n = await deleteArtifactsOf(db, { accountHash: accountHash(atRest, userId), clientIds: orgClients.map((c) => c.id) })
      audit.record({ orgId, actor: { type: 'system', id: 'oauth' }, action: 'oauth.member_tokens_revoked', target: { type: 'user', id: userId }, details: { artifacts: n } })
    },
    async accountDeactivated(userId: string): Promise<void> {
      const n = await deleteArtifactsOf(db, { accountHash: accountHash(atRest, userId) })
      audit.record({ orgId: null, actor: { type: 'system', id: 'oauth' }, action: 'oauth.account_tokens_revoked', target: { type: 'user', id: userId }, details: { artifacts: n } })
    },
  }

  return {
    routes, authenticator, clients, keyRing, revocations, getProvider, reloadKeys, maintain, tokenRevocation,
    issuer, apiResource,
    close() { if (timer) clearInterval(timer) },
  }
}

export type OAuth = ReturnType<typeof createOAuth>

/**
 * What deleting a client or rotating its secret does to its tokens (the API and the CLI share it):
 * deletion lists the client as revoked and deletes its grants, codes and refresh tokens; rotation deletes
 * them too (the store bumps the client's token generation, which ends its access tokens).
 */
export function clientTokenHooks(db: Db, revocations: { revokeClient(id: string): Promise<void> }) {
  return {
    onDeleted: async (id: string) => { await revocations.revokeClient(id); await deleteArtifactsOf(db, { clientId: id }) },
    onSecretRotated: async (id: string) => { await deleteArtifactsOf(db, { clientId: id }) },
  }
}
