/**
 * Custom headers a sender may add, allow-list style.
 *
 * Allowed names:
 * - `X-*` (except `X-Sealpost-*`, which Sealpost sets, and `X-Forwarded-*`/`X-Original-*`
 *   relay headers that receivers use for trust decisions)
 * - threading and list metadata: References, In-Reply-To, Keywords, Comments, List-Id,
 *   List-Help, List-Subscribe, List-Post, List-Owner, List-Archive
 * - handling hints: Auto-Submitted, Precedence, Importance, Priority, Sensitivity, Organization
 *
 * Everything else is refused, notably what Sealpost sets or signs itself: From, Sender,
 * To, Cc, Bcc, Reply-To, Subject, Date, Message-ID, MIME-Version, Content-*,
 * DKIM-Signature, ARC-*, Authentication-Results, Received, Return-Path,
 * List-Unsubscribe(-Post) (suppressions/ owns unsubscribe), Feedback-ID, Resent-*.
 *
 * Names follow RFC 5322 §2.2 field-name (here: ASCII letters, digits and `-`, <= 76);
 * values carry no CR/LF/NUL or other control characters and fit one 998-octet line.
 */
import { checkHeaderText, fieldError } from './text.ts'

export interface CustomHeader {
  name: string
  value: string
}

export const HEADER_LIMITS = { name: 76, line: 998, count: 50, total: 16 * 1024 } as const

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/
const ALLOWED_EXACT = new Set([
  'references', 'in-reply-to', 'keywords', 'comments',
  'list-id', 'list-help', 'list-subscribe', 'list-post', 'list-owner', 'list-archive',
  'auto-submitted', 'precedence', 'importance', 'priority', 'sensitivity', 'organization',
])
const RESERVED_X = /^x-(sealpost-|forwarded-|original-)/
/**
 * One msg-id of References / In-Reply-To: `<left@right>`, each side 1-250 printable ASCII
 * characters other than `<`, `>` and `@` (RFC 5322 §3.6.4 has no `@` in id-left or id-right).
 * Excluding `@` from both sides leaves exactly one way to match, so the cost is linear
 * (the old pattern let `@` match on either side and backtracked exponentially).
 */
const MSG_ID = /^<[\x21-\x3b\x3d\x3f\x41-\x7e]{1,250}@[\x21-\x3b\x3d\x3f\x41-\x7e]{1,250}>$/
const MSG_ID_SEPARATOR = /[ \t]+/

/** `<a@x> <b@y>`: msg-ids separated by spaces or tabs. One split, then one anchored test per id. */
export function isMessageIdList(value: string): boolean {
  const trimmed = value.trim()
  return trimmed !== '' && trimmed.split(MSG_ID_SEPARATOR).every((id) => MSG_ID.test(id))
}

const bad = (field: string, reason: string, message: string) => fieldError('invalid_header', field, reason, message)

export function isAllowedHeaderName(lower: string): boolean {
  if (lower.startsWith('x-')) return lower.length > 2 && !RESERVED_X.test(lower)
  return ALLOWED_EXACT.has(lower)
}

function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string') throw bad(field, 'not_a_string', 'A header name must be a string.')
  if (name.length > HEADER_LIMITS.name) throw fieldError('invalid_header', field, 'name_too_long', `A header name is longer than ${HEADER_LIMITS.name} characters.`, { maxLength: HEADER_LIMITS.name })
  // The name is echoed only once it is known to be a short plain token.
  if (!NAME.test(name)) throw bad(field, 'invalid_name', 'A header name may contain only ASCII letters, digits and hyphens (no colon, space, CR or LF).')
  if (!isAllowedHeaderName(name.toLowerCase())) {
    throw fieldError('invalid_header', field, 'not_allowed', `The header ${name} is not allowed; use X-* or one of the documented headers (Sealpost sets the others itself).`, { header: name })
  }
  return name
}

/**
 * `{ "X-Campaign": "fall" }` or `[{ name, value }]` → validated list (original case kept).
 * Throws invalid_header naming the field (`headers.X-Campaign` or `headers[3]`), never the value.
 */
export function checkCustomHeaders(input: unknown, field = 'headers'): CustomHeader[] {
  if (input == null) return []
  let entries: [unknown, unknown, string][]
  if (Array.isArray(input)) {
    entries = input.map((h, i) => {
      if (!h || typeof h !== 'object') throw bad(`${field}[${i}]`, 'not_an_object', 'Each header must be { name, value }.')
      return [(h as any).name, (h as any).value, `${field}[${i}]`]
    })
  } else if (typeof input === 'object') {
    entries = Object.entries(input as object).map(([k, v], i) => [k, v, `${field}[${i}]`])
  } else {
    throw bad(field, 'not_an_object', 'headers must be an object of name → value.')
  }
  if (entries.length > HEADER_LIMITS.count) throw fieldError('invalid_header', field, 'too_many', `At most ${HEADER_LIMITS.count} custom headers are allowed.`, { max: HEADER_LIMITS.count })
  const seen = new Set<string>()
  const out: CustomHeader[] = []
  let total = 0
  for (const [rawName, rawValue, at] of entries) {
    const name = checkName(rawName, at)
    const lower = name.toLowerCase()
    if (seen.has(lower)) throw fieldError('invalid_header', at, 'duplicate', `The header ${name} is given twice.`, { header: name })
    seen.add(lower)
    const where = `${field}.${name}`
    const value = checkHeaderText('invalid_header', where, rawValue, HEADER_LIMITS.line - name.length - 2, `The value of ${name}`)
    if ((lower === 'references' || lower === 'in-reply-to') && !isMessageIdList(value)) {
      throw bad(where, 'invalid_message_id', `${name} must be one or more <id@host> message ids.`)
    }
    total += name.length + value.length + 4
    if (total > HEADER_LIMITS.total) throw fieldError('invalid_header', field, 'too_large', `Custom headers exceed ${HEADER_LIMITS.total} bytes in total.`, { max: HEADER_LIMITS.total })
    out.push({ name, value: value.trim() })
  }
  return out
}
