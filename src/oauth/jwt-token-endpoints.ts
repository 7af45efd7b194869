import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import { decodeProtectedHeader } from 'jose'
import { handToProvider, MOUNT } from './mount.ts'

/** What the revocation and introspection endpoints need to know about a JWT access token of ours. */
export interface JwtAccessTokens {
  /** Verified claims (signature, issuer, audience, typ) even when expired; null when not ours or tampered. */
  inspect(token: string): Promise<{ claims: Record<string, unknown>; active: boolean } | null>
  revoke(jti: string): Promise<void>
}

const FORM_LIMIT = 16 * 1024

const isJwt = (token: string) => { try { return !!decodeProtectedHeader(token) } catch { return false } }

/**
 * oidc-provider refuses to revoke or introspect JWT access tokens (they are not
 * stored). RFC 7009 and 7662 still apply to them here: a JWT access token is
 * handled by Sealpost after the client authenticates; anything else (refresh
 * tokens) goes to oidc-provider with the body already read.
 */
export function jwtTokenEndpoints(getProvider: () => Promise<Provider>, tokens: JwtAccessTokens): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => done(null, body))
    app.addContentTypeParser('*', (_req, _payload, done) => done(null))

    const handle = (kind: 'revocation' | 'introspection') => async (req: FastifyRequest, reply: FastifyReply) => {
      const provider = await getProvider()
      const body = typeof req.body === 'string' ? req.body : undefined
      const params = new URLSearchParams(body ?? '')
      const token = params.get('token')
      if (body === undefined || !token || params.getAll('token').length !== 1 || !isJwt(token)) return handToProvider(provider, req, reply, body)
      const clientId = await authenticateClient(provider, req, params)
      if (!clientId) {
        return reply.code(401).header('www-authenticate', 'Basic realm="oauth"').header('cache-control', 'no-store')
          .send({ error: 'invalid_client', error_description: 'client authentication failed' })
      }
      const found = await tokens.inspect(token)
      const own = found !== null && found.claims.client_id === clientId
      if (kind === 'revocation') {
        // RFC 7009 §2.2: an unknown or foreign token is answered with 200 all the same.
        if (own) await tokens.revoke(String(found!.claims.jti))
        return reply.code(200).header('cache-control', 'no-store').send('')
      }
      if (!own || !found!.active) return reply.header('cache-control', 'no-store').send({ active: false })
      const c = found!.claims
      return reply.header('cache-control', 'no-store').send({
        active: true, token_type: 'Bearer', client_id: c.client_id, sub: c.sub, scope: c.scope, aud: c.aud, iss: c.iss,
        exp: c.exp, iat: c.iat, jti: c.jti, ...(c.cnf ? { cnf: c.cnf } : {}),
      })
    }
    app.post(`${MOUNT}/token/revocation`, { config: { public: true } }, handle('revocation'))
    app.post(`${MOUNT}/token/introspection`, { config: { public: true } }, handle('introspection'))
  }
}

/** client_secret_basic, client_secret_post, or none (public clients), exactly as the client is registered. */
async function authenticateClient(provider: Provider, req: FastifyRequest, params: URLSearchParams): Promise<string | null> {
  let id: string | null = null
  let secret: string | null = null
  let method: string
  const header = req.headers.authorization
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    if (i < 0) return null
    try { id = decodeURIComponent(decoded.slice(0, i)); secret = decodeURIComponent(decoded.slice(i + 1)) } catch { return null }
    method = 'client_secret_basic'
    if (params.has('client_id') && params.get('client_id') !== id) return null
  } else if (params.get('client_secret')) {
    id = params.get('client_id'); secret = params.get('client_secret'); method = 'client_secret_post'
  } else {
    id = params.get('client_id'); method = 'none'
  }
  if (!id) return null
  const client: any = await provider.Client.find(id)
  if (!client || client.clientAuthMethod !== method) return null
  if (method !== 'none' && !(secret && client.compareClientSecret(secret))) return null
  return client.clientId
}
