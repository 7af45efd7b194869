/**
 * Security headers on every response (helmet), errors included: buildHttp
 * installs this before the auth pipeline, so a 401/403/429 refused in onRequest
 * carries them too. The CSP is an API's (nothing may load, frame or submit);
 * HTML pages (OAuth interactions, unsubscribe) set their own, narrower-scoped CSP
 * with reply.header, which wins over this default.
 */
import type { FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'

export interface SecurityHeaderOptions {
  /** Strict-Transport-Security max-age in seconds; 0 disables HSTS (plain-HTTP development only). */
  hstsMaxAge: number
}

export function securityHeaders(opts: SecurityHeaderOptions): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
      },
      hsts: opts.hstsMaxAge > 0 ? { maxAge: opts.hstsMaxAge, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      xFrameOptions: { action: 'deny' },
    })
  }
}
