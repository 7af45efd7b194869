import { AppError } from '../core/errors.ts'
import { parseAddress, parseAddressList, type ParsedAddress } from '../validation/address.ts'
import { checkSubject } from '../validation/subject.ts'
import { checkCustomHeaders, type CustomHeader } from '../validation/headers.ts'
import { sanitizeHtml, type Removal } from '../validation/html.ts'
import { checkAttachments, type Attachment } from '../validation/attachments.ts'
import type { SendInput } from './schema.ts'
import type { OffloadPool } from '../offload/pool.ts'
import type { SealpostTasks } from '../offload/tasks.ts'

/** The longest a message may be scheduled ahead. */
export const MAX_SCHEDULE_MS = 30 * 24 * 3600_000
export const MAX_RECIPIENTS = 50
/**
 * HTML bounds, from the sanitiser's measured worst cases (docs/availability.md): its cost
 * grows with the square of the open-element depth, so elements are capped (25,000 unclosed
 * `<b>` cost ~0.2 s here, 160,000 cost 8 s); 1 MB of dense well-formed HTML costs ~0.3 s.
 * Both stay an order of magnitude under the default task budget (2 s).
 */
export const HTML_LIMITS = { maxChars: 1_000_000, maxElements: 25_000 } as const

/** A send request after every content check: safe to store, render and put in headers. */
export interface Draft {
  from: ParsedAddress
  to: ParsedAddress[]
  cc: ParsedAddress[]
  bcc: ParsedAddress[]
  replyTo: ParsedAddress[]
  subject: string
  text?: string
  html?: string
  htmlRemoved: Removal[]
  headers: CustomHeader[]
  attachments: Attachment[]
  tags: string[]
  metadata: Record<string, string>
  sendAt: number | null
  unsubscribe: boolean
}

/**
 * Validates one message. `field` prefixes error paths (`messages[3].to[1]` in a batch).
 * Every value that reaches a header (addresses, names, subject, custom headers,
 * attachment file names) is checked for CR/LF and other injection vectors.
 */
export function validateDraft(input: SendInput, now: number, field = ''): Draft {
  const at = (name: string) => (field ? `${field}.${name}` : name)
  const from = parseAddress(input.from, at('from'))
  const to = parseAddressList(input.to, at('to'), { min: 1 })
  const cc = parseAddressList(input.cc, at('cc'))
  const bcc = parseAddressList(input.bcc, at('bcc'))
  const replyTo = parseAddressList(input.reply_to, at('reply_to'), { max: 5 })
  if (to.length + cc.length + bcc.length > MAX_RECIPIENTS) {
    throw new AppError('invalid_request', `A message may have at most ${MAX_RECIPIENTS} recipients in to, cc and bcc together.`, { details: [{ path: at('to'), message: 'too many recipients' }] })
  }
  if (input.text === undefined && input.html === undefined) {
    throw new AppError('invalid_request', 'A message needs a text or an html body (or both).', { details: [{ path: at('text'), message: 'text or html required' }] })
  }
  if (input.html !== undefined) checkHtmlSize(input.html, at('html'))
  const sanitized = input.html !== undefined ? sanitizeHtml(input.html, at('html')) : undefined
  let sendAt: number | null = null
  if (input.send_at !== undefined) {
    sendAt = Date.parse(input.send_at)
    // The schema's date-time admits what Date cannot represent (a leap second: 23:59:60).
    if (!Number.isFinite(sendAt)) {
      throw new AppError('invalid_request', 'send_at is not a representable time.', { details: [{ path: at('send_at'), message: 'not a valid time' }] })
    }
    if (sendAt > now + MAX_SCHEDULE_MS) {
      throw new AppError('invalid_request', 'send_at may be at most 30 days ahead.', { details: [{ path: at('send_at'), message: 'too far ahead' }] })
    }
    if (sendAt <= now) sendAt = null
  }
  return {
    from, to, cc, bcc, replyTo,
    subject: checkSubject(input.subject, at('subject')),
    text: input.text,
    html: sanitized?.html,
    htmlRemoved: sanitized?.removed ?? [],
    headers: input.headers ? checkCustomHeaders(input.headers, at('headers')) : [],
    attachments: input.attachments ? checkAttachments(input.attachments, at('attachments')) : [],
    tags: input.tags ?? [],
    metadata: input.metadata ?? {},
    sendAt,
    unsubscribe: input.unsubscribe ?? false,
  }
}

/** One linear pass, before the sanitiser: refuses what would cost it more than its budget allows. */
function checkHtmlSize(html: string, field: string): void {
  if (html.length > HTML_LIMITS.maxChars) {
    throw new AppError('payload_too_large', `html may be at most ${HTML_LIMITS.maxChars} characters.`, { details: { field, reason: 'too_large', maxLength: HTML_LIMITS.maxChars } })
  }
  let elements = 0
  for (let i = html.indexOf('<'); i >= 0; i = html.indexOf('<', i + 1)) {
    // `<` + ASCII letter opens an element for an HTML tokenizer (end tags, comments and text do not).
    const next = html.charCodeAt(i + 1) | 0x20
    if (next >= 0x61 && next <= 0x7a && ++elements > HTML_LIMITS.maxElements) {
      throw new AppError('content_too_complex', `html may have at most ${HTML_LIMITS.maxElements} elements.`, { details: { field, reason: 'too_many_elements', max: HTML_LIMITS.maxElements } })
    }
  }
}

/** Validates the messages of one request; a batch is refused whole, naming its first bad message. */
export type DraftValidator = (inputs: SendInput[], now: number, field: (i: number) => string) => Promise<Draft[]>

/**
 * validateDraft in the offload pool, one task per message, at most `pool.threads` of one
 * request at a time (a 500-message batch neither fills the queue nor starves other requests).
 * The error reported is the lowest-indexed one, as a sequential loop would report it.
 */
export function offloadedDraftValidator(pool: OffloadPool<SealpostTasks>): DraftValidator {
  return async (inputs, now, field) => {
    const drafts: Draft[] = new Array(inputs.length)
    const failures = new Map<number, unknown>()
    let next = 0
    const lane = async () => {
      while (failures.size === 0 && next < inputs.length) {
        const i = next++
        try {
          drafts[i] = revive(await pool.run('validateDraft', { input: inputs[i], now, field: field(i) }))
        } catch (err) {
          failures.set(i, withField(err, field(i)))
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(pool.threads, inputs.length) }, lane))
    if (failures.size) throw failures.get(Math.min(...failures.keys()))
    return drafts
  }
}

/** Structured clone turned the attachments' Buffers into Uint8Arrays. */
function revive(d: Draft): Draft {
  for (const a of d.attachments) a.content = Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength)
  return d
}

/** The pool's over-budget error knows no field; in a batch, say which message it was. */
function withField(err: unknown, field: string): unknown {
  if (!field || !(err instanceof AppError) || err.code !== 'content_too_complex' || (err.details as { field?: string })?.field) return err
  return new AppError(err.code, err.message, { details: { field, ...(err.details as object) }, headers: err.headers })
}

export const recipientsOf = (d: Pick<Draft, 'to' | 'cc' | 'bcc'>) => [...d.to, ...d.cc, ...d.bcc]

export const recipientDomains = (d: Pick<Draft, 'to' | 'cc' | 'bcc'>) => [...new Set(recipientsOf(d).map((a) => a.domain))]
