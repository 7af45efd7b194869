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
  /**
   * The sandbox rule of the route (required on every /v1 route; boot fails without it). Test-environment
   * principals see and change only test-environment objects:
   * - `any`       the route touches no environment-bound object (own profile, sessions, public links)
   * - `sealed`    its objects carry an environment and the service confines test principals to test
   *               objects (a live one is `not_found`; credentials are also contained); live sees both
   * - `shared`    objects shared by both environments (sending domains) that test principals may read
   * - `live-only` test principals are refused before the handler (403 `environment_denied`): writes to
   *               shared objects, organization administration, security policies and the audit trail
   */
  environment?: EnvironmentRule
  /**
   * A session principal must have verified a second factor within the step-up window (403
   * `step_up_required`). API keys and OAuth client tokens are exempt by design: no human is present
   * to re-authenticate; their scopes and conditions bound them instead.
   */
  stepUp?: boolean
  /** Answered even while the server sheds load (liveness and readiness probes only). */
  shedExempt?: boolean
}

export const ENVIRONMENT_RULES = ['any', 'sealed', 'shared', 'live-only'] as const
export type EnvironmentRule = typeof ENVIRONMENT_RULES[number]

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
