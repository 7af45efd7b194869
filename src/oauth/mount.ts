import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import type { IncomingMessage, ServerResponse } from 'node:http'

export const MOUNT = '/oauth'

/** Hands a request to oidc-provider (a Koa app) untouched: Fastify's reply is hijacked, the mount prefix stripped. */
export async function handToProvider(provider: Provider, req: FastifyRequest, reply: FastifyReply, body?: string, asUrl?: string): Promise<void> {
  reply.hijack()
  const raw = req.raw as IncomingMessage & { originalUrl?: string; body?: string }
  // oidc-provider derives its endpoint URLs (and the discovery document) from originalUrl.
  raw.originalUrl = asUrl ?? raw.url
  // `/oauth?x` must become `/?x`, not `?x` (oidc-provider crashes on a path without its slash).
  const rest = raw.originalUrl!.slice(MOUNT.length)
  raw.url = rest.startsWith('/') ? rest : `/${rest}`
  // A body Fastify already read (revocation/introspection pre-check) is passed on; oidc-provider reads req.body then.
  if (body !== undefined) raw.body = body
  await callbackOf(provider)(raw, reply.raw as ServerResponse)
}

const callbacks = new WeakMap<Provider, (req: IncomingMessage, res: ServerResponse) => Promise<void>>()
function callbackOf(provider: Provider) {
  let cb = callbacks.get(provider)
  if (!cb) { cb = provider.callback() as any; callbacks.set(provider, cb!) }
  return cb!
}

/**
 * Mounts oidc-provider under /oauth in its own encapsulated scope, whose
 * content-type parsers are replaced by one that leaves the body stream unread
 * (oidc-provider parses its own bodies). Every route here is public: the OAuth
 * endpoints authenticate clients themselves.
 */
export function providerMount(getProvider: () => Promise<Provider>): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', (_req, _payload, done) => done(null))
    const handler = async (req: FastifyRequest, reply: FastifyReply) => handToProvider(await getProvider(), req, reply)
    app.route({ method: ['GET', 'POST', 'OPTIONS', 'DELETE', 'PUT'], url: `${MOUNT}/*`, config: { public: true }, handler })
    app.route({ method: ['GET'], url: MOUNT, config: { public: true }, handler })
    // RFC 8414 §3: for an issuer with a path, metadata lives at /.well-known/oauth-authorization-server/<path>.
    app.get(`/.well-known/oauth-authorization-server${MOUNT}`, { config: { public: true } }, async (req, reply) =>
      handToProvider(await getProvider(), req, reply, undefined, `${MOUNT}/.well-known/oauth-authorization-server`))
  }
}
