import { AppError } from '../core/errors.ts'
import { parseAddress, parseAddressList, type ParsedAddress } from '../validation/address.ts'
import { checkSubject } from '../validation/subject.ts'
import { checkCustomHeaders, type CustomHeader } from '../validation/headers.ts'
import { sanitizeHtml, type Removal } from '../validation/html.ts'
import { checkAttachments, type Attachment } from '../validation/attachments.ts'
import type { SendInput } from './schema.ts'

/** The longest a message may be scheduled ahead. */
export const MAX_SCHEDULE_MS = 30 * 24 * 3600_000
export const MAX_RECIPIENTS = 50

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
  const sanitized = input.html !== undefined ? sanitizeHtml(input.html, at('html')) : undefined
  let sendAt: number | null = null
  if (input.send_at !== undefined) {
    sendAt = Date.parse(input.send_at)
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

export const recipientsOf = (d: Pick<Draft, 'to' | 'cc' | 'bcc'>) => [...d.to, ...d.cc, ...d.bcc]

export const recipientDomains = (d: Pick<Draft, 'to' | 'cc' | 'bcc'>) => [...new Set(recipientsOf(d).map((a) => a.domain))]
