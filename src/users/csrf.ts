import { AppError } from '../core/errors.ts'
import type { SessionManager } from './sessions.ts'

/**
 * CSRF defence for cookie-authenticated, state-changing requests (anything but
 * GET/HEAD/OPTIONS), in depth:
 * 1. SameSite=Strict on the cookie (browsers do not attach it cross-site);
 * 2. an Origin header, when sent, must be this deployment's origin; without one,
 *    Sec-Fetch-Site, when sent, must be same-origin or none;
 * 3. the per-session token (`X-CSRF-Token`, from sign-in or GET /v1/auth/session)
 *    must match: a cross-site form or fetch cannot read or guess it.
 * Public form-like endpoints without a session (sign-in, accept invitation) get 1–2.
 */
export const CSRF_HEADER = 'x-csrf-token'
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface BrowserRequest {
  method: string
  headers: Record<string, string | string[] | undefined>
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/** Allowed origins: the configured public origin(s); with none configured, the request's own Host. */
export function isAllowedOrigin(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.length) return allowed.includes(origin)
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
  }
}

const refuse = (reason: string) => new AppError('csrf_failed', 'Cross-site request refused. Send the X-CSRF-Token header from the same origin.', { cause: reason })

export function checkOrigin(req: BrowserRequest, allowed: readonly string[]): void {
  if (SAFE.has(req.method)) return
  const origin = one(req.headers.origin)
  if (origin !== undefined) {
    if (!isAllowedOrigin(origin, one(req.headers.host), allowed)) throw refuse('origin_mismatch')
    return
  }
  const site = one(req.headers['sec-fetch-site'])
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw refuse('cross_site_fetch')
}

export function checkCsrf(req: BrowserRequest, token: string, sessions: SessionManager, allowed: readonly string[]): void {
  if (SAFE.has(req.method)) return
  checkOrigin(req, allowed)
  if (!sessions.checkCsrf(token, one(req.headers[CSRF_HEADER]))) throw refuse('csrf_token_mismatch')
}
