/**
 * SMTP results → per-recipient outcomes.
 * - 2xx: delivered.
 * - 4xx, connection and DNS trouble: deferred (retried with back-off).
 * - 5xx: failed, a hard bounce, only for the recipients the server refused.
 * - Any TLS problem (no STARTTLS, old protocol, bad certificate): deferred, whatever
 *   reply code came with it, since the receiver may fix it; nothing was sent.
 * - 421 and 451 (too many connections, greylisting) also ask us to slow down the destination.
 */
import { describeTlsError, isTlsFailure } from './tls-policy.ts'

export type RecipientStatus = 'delivered' | 'deferred' | 'failed'

export interface RecipientResult {
  address: string
  status: RecipientStatus
  /** Server reply or the reason we give. */
  detail: string
  code?: number
  /** The failure was about TLS: nothing was sent in clear. */
  tls?: boolean
  /** Failed because of how the recipient's domain is set up, not the address: no hard bounce, no suppression. */
  destinationFault?: boolean
}

export interface SendReport {
  results: RecipientResult[]
  /** Set when the destination asked us to back off (421/451). */
  throttle: string | null
}

interface SmtpError {
  code?: string
  message?: string
  response?: string
  responseCode?: number
  originalCode?: string
  cause?: unknown
  rejectedErrors?: SmtpError[]
  recipient?: string
}

const THROTTLE_CODES = new Set([421, 451])
const clip = (s: string) => (s.length > 400 ? `${s.slice(0, 400)}…` : s).replace(/[\r\n]+/g, ' ')

function statusOf(code: number | undefined): RecipientStatus {
  return code !== undefined && code >= 500 ? 'failed' : 'deferred'
}

function replyText(err: SmtpError): string {
  return clip(err.response ?? err.message ?? 'unknown error')
}

/** A send that went through DATA: accepted recipients, plus any refused at RCPT TO. */
export function classifyAccepted(info: { accepted: unknown[]; rejectedErrors?: SmtpError[]; response?: string }, to: string[], where: string): SendReport {
  const accepted = new Set(info.accepted.map((a) => String(a).toLowerCase()))
  const rejected = new Map((info.rejectedErrors ?? []).map((e) => [String(e.recipient ?? '').toLowerCase(), e]))
  let throttle: string | null = null
  const results = to.map((address): RecipientResult => {
    const key = address.toLowerCase()
    if (accepted.has(key)) return { address, status: 'delivered', detail: clip(info.response ?? '250 OK') }
    const err = rejected.get(key)
    if (err?.responseCode && THROTTLE_CODES.has(err.responseCode)) throttle = replyText(err)
    if (err) return { address, status: statusOf(err.responseCode), detail: `${where}: ${replyText(err)}`, code: err.responseCode }
    return { address, status: 'deferred', detail: 'the server did not answer for this recipient' }
  })
  return { results, throttle }
}

/** A send that failed as a whole, or refused every recipient. `where` names the peer (host:port). */
export function classifyFailure(err: SmtpError, to: string[], where: string): SendReport {
  if (isTlsFailure(err)) {
    const noStartTls = err.code === 'ETLS' && /STARTTLS/.test(err.message ?? '') && !/initiating TLS/.test(err.message ?? '')
    const detail = noStartTls
      ? `TLS required, not sent: ${where} does not offer STARTTLS${err.response ? ` (${clip(err.response)})` : ''}`
      : `TLS required (TLS 1.2+ with a verified certificate), not sent: handshake with ${where} failed: ${clip(describeTlsError(err.message ?? String(err)))}`
    return { results: to.map((address) => ({ address, status: 'deferred', detail, tls: true })), throttle: null }
  }
  // Every recipient refused at RCPT TO: each keeps its own reply.
  if (err.rejectedErrors?.length) {
    return classifyAccepted({ accepted: [], rejectedErrors: err.rejectedErrors }, to, where)
  }
  const throttle = err.responseCode && THROTTLE_CODES.has(err.responseCode) ? replyText(err) : null
  if (err.responseCode) {
    return { results: to.map((address) => ({ address, status: statusOf(err.responseCode), detail: `${where}: ${replyText(err)}`, code: err.responseCode })), throttle }
  }
  const detail = `${where}: ${clip(err.message ?? String(err))}${err.code ? ` (${err.code})` : ''}`
  return { results: to.map((address) => ({ address, status: 'deferred', detail })), throttle }
}
