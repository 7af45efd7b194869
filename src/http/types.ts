import type { Principal } from '../core/principal.ts'

/** Every route declares who may call it: scopes (all required) or public. */
export interface RouteAccess {
  scopes?: readonly string[]
  public?: boolean
  /** Public routes that still resolve a principal when credentials are present. */
  optionalAuth?: boolean
  /** Extra rate-limit bucket for this route (e.g. leaked-key reports, login). */
  rateLimit?: { points: number; durationSec: number }
  /** Self-service routes (own profile, MFA, sessions): public to the scope check, but users/ requires a
   * signed-in browser session; `any` also admits one still owing its second factor; `password` admits a
   * full one and one signed in with a one-time password (which reaches nothing but `any` and `password`). */
  session?: 'any' | 'password' | 'full'
  /** Answered even while the server sheds load (liveness and readiness probes only). */
  shedExempt?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyInstance {
    /** Every route with its access declaration, collected at registration (src/http/pipeline.ts). */
    routeTable: readonly { method: string; url: string; config: RouteAccess }[]
  }
  interface FastifyRequest {
    principal: Principal | null
    /** Client address: the socket, or X-Forwarded-For when the peer is a trusted proxy. */
    clientIp: string
    /** Why authentication failed, for the audit log (never sent to the caller). */
    authFailure: string | null
    /** Fields for the audit event beyond method/route/status (e.g. message id). */
    auditDetails: Record<string, unknown> | null
    /** Epoch ms when the credential stops working, for the expiry warning header. */
    keyExpiresAt: number | null
  }
}
