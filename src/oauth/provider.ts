import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider'
import type { LoadedKeys } from './signing-keys.ts'
import { SIGNING_ALG } from './signing-keys.ts'
import { userCodeInputSource, userCodeConfirmSource, deviceSuccessSource, renderError } from './interactions/provider-pages.ts'
import { contentSecurityPolicy, formActionSource, newNonce, PAGE_HEADERS } from './interactions/html.ts'
import { clientSecretMatches } from './clients/secret.ts'

/** Lifetimes in seconds. Access tokens are short; refresh tokens rotate and the family has an absolute end. */
export const TTL = {
  accessToken: 10 * 60,
  authorizationCode: 60,
  deviceCode: 10 * 60,
  refreshToken: 14 * 24 * 3600,
  refreshFamily: 90 * 24 * 3600,
  interaction: 15 * 60,
  session: 24 * 3600,
  grant: 365 * 24 * 3600,
} as const

export interface ProviderOptions {
  issuer: string
  /** Resource indicator (and `aud`) of the Sealpost API. */
  apiResource: string
  keys: LoadedKeys
  adapter: Configuration['adapter']
  /** Signs oidc-provider's cookies; derived from the server pepper so every process agrees. */
  cookieKeys: string[]
  pepper: string
  /** Behind a TLS-terminating proxy: believe X-Forwarded-Proto/Host. */
  proxy: boolean
  /** Opaque claim that lets the resource server match a token to its (revoked) grant. */
  grantRef(grantId: string): string
  accountExists(accountId: string): Promise<boolean>
  /**
   * The scopes a user holds in the organization NOW (null: not a member, or deactivated). Every token
   * issued for a user (code, device, refresh) is cut to them: a refresh after a demotion no longer
   * yields the lost scopes, and after a removal it fails.
   */
  accountScopes(accountId: string, orgId: string): Promise<readonly string[] | null>
}

/**
 * oidc-provider configured as an OAuth 2.1 authorization server:
 * - grants: authorization_code (PKCE S256 required for every client), refresh_token
 *   (rotated on every use; a replayed one revokes its whole grant), client_credentials,
 *   device_code. No implicit (response type `code` only), no password grant.
 * - access tokens: RFC 9068 JWTs (`typ: at+jwt`) for the Sealpost API resource, signed
 *   with the key ring's active key, 10 minutes, scopes limited to the client's scopes.
 * - revocation, introspection, DPoP (optional sender-constraining), PAR.
 * - clients come from Sealpost's table; secrets are compared as HMACs.
 */
export function buildProvider(o: ProviderOptions): Provider {
  const config: Configuration = {
    adapter: o.adapter,
    jwks: { keys: o.keys.privateJwks as any },
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: SIGNING_ALG },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    extraClientMetadata: { properties: ['org_id', 'sealpost_scopes', 'sealpost_environment', 'sealpost_token_generation'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },
    cookies: {
      keys: o.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    conformIdTokenClaims: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****', userCodeInputSource, userCodeConfirmSource, successSource: deviceSuccessSource },
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      dPoP: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? o.apiResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (indicator !== o.apiResource) throw new errors.InvalidTarget()
          let scopes = String((client as any).sealpost_scopes ?? '').split(' ').filter(Boolean)
          // Token endpoint with a user behind the grant: what the client may have ∩ what the user holds today.
          // (Only there: at the authorization endpoint the consent page decides, and refuses non-members.)
          const accountId = (ctx as any).oidc?.entities?.Account?.accountId as string | undefined
          if (accountId && (ctx as any).oidc?.route === 'token') {
            const held = await o.accountScopes(accountId, String((client as any).org_id))
            if (held === null) throw new errors.InvalidGrant('the user no longer has access to the organization that owns this client')
            scopes = scopes.filter((s) => held.includes(s))
          }
          return {
            scope: scopes.join(' '),
            audience: o.apiResource,
            accessTokenTTL: TTL.accessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALG, kid: o.keys.activeKid } },
          }
        },
      },
    },
    formats: {
      customizers: {
        // The organization travels in the token, so the resource server needs no lookup; `grant` lets it honour grant revocation.
        jwt: async (_ctx, token, jwt) => {
          const client = (token as any).client
          jwt.payload.org_id = client?.org_id
          jwt.payload.env = client?.sealpost_environment ?? 'live'
          // The client's token generation: a secret rotation bumps it and older tokens are refused (oauth/token-standing.ts).
          jwt.payload.cgen = Number(client?.sealpost_token_generation ?? 0)
          const grantId = (token as any).grantId
          if (grantId) jwt.payload.grant = o.grantRef(grantId)
        },
      },
    },
    findAccount: async (_ctx, sub) => ((await o.accountExists(sub)) ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
    expiresWithSession: async () => false,
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && ['AuthorizationCode', 'DeviceCode', 'RefreshToken'].includes(code.kind),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: TTL.accessToken,
      ClientCredentials: TTL.accessToken,
      AuthorizationCode: TTL.authorizationCode,
      DeviceCode: TTL.deviceCode,
      IdToken: TTL.accessToken,
      Interaction: TTL.interaction,
      Session: TTL.session,
      Grant: TTL.grant,
      // Each rotation gets a fresh window, but the family ends a fixed time after the first issue.
      RefreshToken: (_ctx, token) => {
        const first = (token as any).iiat ?? Math.floor(Date.now() / 1000)
        return Math.max(1, Math.min(TTL.refreshToken, first + TTL.refreshFamily - Math.floor(Date.now() / 1000)))
      },
    },
    interactions: { url: async (_ctx, interaction) => `/oauth/interaction/${interaction.uid}` },
    renderError,
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA'] },
  }
  const provider = new Provider(o.issuer, config)
  provider.proxy = o.proxy
  // Stored secrets are HMACs (client_secret_jwt is therefore not offered).
  ;(provider.Client.prototype as any).compareClientSecret = function (this: { clientSecret?: string }, actual: string) {
    return typeof actual === 'string' && typeof this.clientSecret === 'string' && clientSecretMatches(o.pepper, actual, this.clientSecret)
  }
  provider.use(pinOrigin(new URL(o.issuer).origin))
  provider.use(securityHeaders)
  return provider
}

/**
 * oidc-provider builds every absolute URL (discovery, redirects to its own endpoints, the DPoP `htu` it
 * expects) from the request's origin, which Koa reads from `Host` (or X-Forwarded-Host behind a proxy):
 * `Host: evil.example` would turn every endpoint in the discovery document into evil.example. The origin
 * is pinned to the issuer's, i.e. the configured public URL, or the listener's own address when none is
 * set (app.ts). The protocol (cookie `secure` flag) still follows the connection.
 */
function pinOrigin(origin: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    // Koa's href is protocol + Host + path; oidc-provider's urlFor resolves against it (ctx.origin is the Origin header in Koa 3: untouched).
    const request = ctx.request
    Object.defineProperty(request, 'href', { get: () => origin + request.originalUrl, configurable: true })
    await next()
  }
}

/** Every page oidc-provider renders gets the strict CSP; it adds hashes for its own inline scripts. */
async function securityHeaders(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  const nonce = newNonce()
  ctx.state.cspNonce = nonce
  ctx.set(PAGE_HEADERS as any)
  ctx.set('content-security-policy', contentSecurityPolicy(nonce))
  await next()
  const redirectUri = (ctx as any).oidc?.params?.redirect_uri as string | undefined
  const client = (ctx as any).oidc?.client
  const target = redirectUri && client?.redirectUriAllowed(redirectUri) ? formActionSource(redirectUri) : null
  if (target) {
    const csp = String(ctx.response.get('content-security-policy'))
    ctx.set('content-security-policy', csp.replace(/form-action ([^;]*)/, (_m, v) => `form-action ${v} ${target}`))
  }
}
