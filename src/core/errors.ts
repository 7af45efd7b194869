/**
 * The one catalogue of error codes. Each code has exactly one HTTP status; the
 * error handler renders `{ error: { code, message, details } }`. `message` is
 * public; internal reasons go in `cause`, which is logged and never rendered.
 */
export const errorStatus = {
  invalid_request: 400,
  key_in_query: 400,
  invalid_header: 400,
  invalid_address: 400,
  invalid_attachment: 400,
  url_not_allowed: 400,
  unauthenticated: 401,
  mfa_required: 401,
  forbidden: 403,
  insufficient_scope: 403,
  policy_denied: 403,
  key_suspended: 403,
  ip_blocked: 403,
  step_up_required: 403,
  environment_denied: 403,
  password_change_required: 403,
  csrf_failed: 403,
  domain_not_allowed: 403,
  domain_not_verified: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  content_too_complex: 422,
  request_timeout: 408,
  headers_too_large: 431,
  quota_exceeded: 429,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  server_busy: 503,
} as const

export type ErrorCode = keyof typeof errorStatus

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: unknown
  /** Extra response headers (Retry-After, WWW-Authenticate...). */
  readonly headers: Record<string, string>

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: opts.cause })
    this.name = 'AppError'
    this.code = code
    this.status = errorStatus[code]
    this.details = opts.details
    this.headers = opts.headers ?? {}
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError

/** The one message for every authentication failure: the reason goes to the audit log, not the caller. */
export const UNAUTHENTICATED_MESSAGE = 'Missing or invalid credentials.'

export function unauthenticated(reason: string): AppError {
  return new AppError('unauthenticated', UNAUTHENTICATED_MESSAGE, { cause: reason })
}

/** Another organization's object and a missing one look the same (no BOLA oracle). */
export function notFound(what: string): AppError {
  return new AppError('not_found', `${what} not found.`)
}
