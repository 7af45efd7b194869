import type { FastifyInstance } from 'fastify'

/** `http(s)://host:port` of the running listener, for when no public URL is configured (development, tests). */
export function listenerBaseUrl(app: FastifyInstance): string {
  const a = app.server.address()
  if (!a || typeof a === 'string') throw new Error('SEALPOST_PUBLIC_URL is not set and the server is not listening on a TCP port yet')
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `${app.initialConfig.https ? 'https' : 'http'}://${host}:${a.port}`
}
