import addressparser from 'nodemailer/lib/addressparser'
import type { OutboundMessage } from './contract.ts'
import { ALL_DOMAINS } from '../queue/table.ts'
import { domainOf } from '../queue/domains.ts'

/** `"Ann" <ann@example.org>` → `ann@example.org` (validated at send time; this only unwraps). */
export function bareAddress(mailbox: string): string {
  const parsed = addressparser(mailbox, { flatten: true })
  const first = parsed.find((a) => a.address)
  return (first?.address ?? mailbox).trim()
}

export interface JobRecipient {
  /** Position in to + cc + bcc: what the queue's `settled` list refers to. */
  index: number
  address: string
}

/** Every recipient of the message, in to, cc, bcc order (duplicates kept: each counts once in the message totals). */
export function allRecipients(msg: Pick<OutboundMessage, 'to' | 'cc' | 'bcc'>): string[] {
  return [...msg.to, ...msg.cc, ...msg.bcc].map(bareAddress)
}

/** The recipients a job still has to deliver: its domain (or all), minus those already settled. */
export function pendingRecipients(msg: Pick<OutboundMessage, 'to' | 'cc' | 'bcc'>, job: { domain: string; settled: number[] }): JobRecipient[] {
  const settled = new Set(job.settled)
  return allRecipients(msg)
    .map((address, index) => ({ index, address }))
    .filter((r) => !settled.has(r.index) && (job.domain === ALL_DOMAINS || domainOf(r.address) === job.domain))
}

/** Each address once (its first occurrence), whatever its case or how often it appears. */
export function distinctRecipients(recipients: JobRecipient[]): JobRecipient[] {
  const seen = new Map<string, JobRecipient>()
  for (const r of recipients) if (!seen.has(r.address.toLowerCase())) seen.set(r.address.toLowerCase(), r)
  return [...seen.values()]
}

/** RCPT TO list: each address once, whatever its case or how often it appears. */
export function envelopeAddresses(recipients: JobRecipient[]): string[] {
  return distinctRecipients(recipients).map((r) => r.address)
}
