/**
 * What may enter an audit event. Request bodies never do; route details and
 * admin details pass through `redactDetails`, which drops fields whose name
 * suggests a secret or personal data and scrubs credential- and address-shaped
 * strings from what is left.
 */
const SECRET_NAME = /pass(word|phrase)?|secret|token|api[_-]?key|^key$|private|authorization|cookie|pepper|otp|^code$|signature|credential|session/i
const PII_OR_CONTENT_NAME = /^(e-?mail|emails|to|cc|bcc|from|reply_?to|recipients?|phone|address|first_?name|last_?name|full_?name|subject|body|html|text|attachments?|content|headers)$/i

const KEY_SHAPE = /sp_(?:live|test)_[0-9A-Za-z_]{16,}/g
// Lookbehinds: a match starts only where a token starts (or after a %XX escape: `Bearer%20eyJ...`),
// so no run of token characters is rescanned from each of its positions (linear, not quadratic).
const JWT_SHAPE = /(?:(?<![\w-])|(?<=%[0-9A-Fa-f]{2}))eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g
const EMAIL_SHAPE = /(?<![^\s@<>"'])[^\s@<>"']+@[^\s@<>"']+\.[^\s@<>"']{2,}/g
const LONG_HEX_OR_B64 = /\b[A-Za-z0-9+/_-]{40,}={0,2}/g

const MAX_DEPTH = 4
const MAX_STRING = 200
const MAX_ITEMS = 20

export const REDACTED = '[redacted]'

export function scrubString(s: string): string {
  const out = s.replace(KEY_SHAPE, REDACTED).replace(JWT_SHAPE, REDACTED).replace(EMAIL_SHAPE, '[email]').replace(LONG_HEX_OR_B64, REDACTED)
  return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING)}…` : out
}

export function redactDetails(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return scrubString(value)
  if (typeof value === 'number' || typeof value === 'boolean') return value
  if (depth >= MAX_DEPTH) return REDACTED
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => redactDetails(v, depth + 1))
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 50)) {
      out[k] = SECRET_NAME.test(k) || PII_OR_CONTENT_NAME.test(k) ? REDACTED : redactDetails(v, depth + 1)
    }
    return out
  }
  return REDACTED
}

/** Values kept as-is only when they look like ids, numbers or short enum words. */
const SAFE_VALUE = /^([a-z]{2,8}_[0-9a-z]{26}|-?\d{1,20}|[a-z][a-z0-9_.:-]{0,40}|\d{4}-\d\d-\d\dT[\d:.]+Z?)$/

/** Query parameters worth recording (filters, paging); anything else is named but not valued. */
const SAFE_QUERY_NAMES = new Set(['limit', 'cursor', 'status', 'since', 'until', 'from_time', 'to_time', 'order', 'action', 'actor', 'environment', 'severity', 'format', 'timeFormat'])

export interface RequestShape {
  query?: string
  params?: Record<string, string>
  contentType?: string
  contentLength?: string
  hasIdempotencyKey?: boolean
}

/** The allow-listed summary of a request: never a body, never a header value other than content type. */
export function requestSummary(r: RequestShape): Record<string, unknown> | null {
  const summary: Record<string, unknown> = {}
  if (r.query) {
    const q: Record<string, string> = {}
    for (const [k, v] of new URLSearchParams(r.query)) {
      const name = scrubString(k).slice(0, 40)
      q[name] = SAFE_QUERY_NAMES.has(k) && SAFE_VALUE.test(v) ? v : REDACTED
    }
    if (Object.keys(q).length) summary.query = q
  }
  if (r.params && Object.keys(r.params).length) {
    const p: Record<string, string> = {}
    for (const [k, v] of Object.entries(r.params)) p[k] = safeParam(k, v)
    summary.params = p
  }
  if (r.contentType) summary.contentType = r.contentType.split(';')[0].trim().slice(0, 80)
  if (r.contentLength && /^\d+$/.test(r.contentLength)) summary.contentLength = Number(r.contentLength)
  if (r.hasIdempotencyKey) summary.idempotencyKey = true
  return Object.keys(summary).length ? summary : null
}

const safeParam = (name: string, value: unknown) =>
  typeof value === 'string' && !SECRET_NAME.test(name) && SAFE_VALUE.test(value) ? value : REDACTED

/**
 * The path to record: rebuilt from the route pattern with only safe parameter
 * values (ids), so a token or an address in the path never reaches the log.
 * Unmatched paths (404) are scrubbed instead.
 */
export function auditPath(route: string | null, params: Record<string, unknown> | undefined, rawPath: string): string {
  if (!route) return scrubString(rawPath)
  return route.split('/').map((seg) => {
    if (seg.startsWith(':')) return safeParam(seg.slice(1), params?.[seg.slice(1)])
    return seg === '*' ? REDACTED : seg
  }).join('/')
}
