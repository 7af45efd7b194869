/**
 * The contract between the send API (messages/) and delivery (queue/ + delivery/).
 * messages/ implements MessageSource; delivery/ implements DeliveryQueue.
 * Neither imports the other's implementation: app.ts wires them.
 */
import type { DbOrTrx } from '../storage/db.ts'
import type { Environment } from '../core/principal.ts'

export interface EnqueueRequest {
  orgId: string
  messageId: string
  /** Epoch ms: now, or the message's send_at. */
  runAt: number
  /** Lower-cased recipient domains (to + cc + bcc), for per-domain jobs and throttling. */
  recipientDomains: string[]
}

export interface DeliveryQueue {
  /** Called inside the sender's transaction, so a message is stored and queued atomically. */
  enqueue(trx: DbOrTrx, jobs: EnqueueRequest[]): Promise<void>
  /** Queue depth and age of the oldest ready job, for metrics. */
  stats(): Promise<{ ready: number; leased: number; oldestReadyAgeMs: number | null }>
}

export interface OutboundAttachment { filename: string; contentType: string; content: Buffer }

export interface OutboundMessage {
  id: string
  orgId: string
  environment: Environment
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  replyTo: string[]
  subject: string
  text?: string
  html?: string
  /** Allow-listed custom headers, already validated (no CR/LF). */
  headers: Record<string, string>
  attachments: OutboundAttachment[]
  /** RFC 5322 Message-ID, stable across retries so receivers can de-duplicate. */
  messageIdHeader: string
  dkim: { domainName: string; keySelector: string; privateKey: string; algorithm: 'rsa' | 'ed25519' }
  /** The sending domain is verified now: live mail is never signed with an unproven domain (send time checked it too). */
  senderVerified: boolean
  /**
   * Headers that differ per recipient (the one-click List-Unsubscribe link), indexed like
   * allRecipients (to, cc, bcc). When present, every recipient gets a copy of its own, signed on its own.
   */
  perRecipient?: { headers: Record<string, string> }[]
}

export type DeliveryOutcome =
  | { kind: 'delivered'; recipients: string[]; response: string }
  | { kind: 'deferred'; recipients: string[]; reason: string; retryAt: number; attempt: number }
  | { kind: 'failed'; recipients: string[]; reason: string; bounce: 'hard' | 'soft' | null }
  | { kind: 'sandboxed'; recipients: string[] }

export interface MessageSource {
  /** Decrypts and assembles what the worker sends. Null if the message no longer exists (erased). */
  loadForDelivery(orgId: string, messageId: string): Promise<OutboundMessage | null>
  /**
   * Prepares what an outcome writes (status, event, suppressions) and returns a function that
   * only writes, so the worker commits it together with the job's state in one transaction.
   * Every decryption and encryption happens here, before that transaction: on SQLite there is
   * one connection, and a key lookup on `db` while a transaction holds it would wait forever.
   */
  prepareOutcome(orgId: string, messageId: string, outcome: DeliveryOutcome, at: number): Promise<(trx: DbOrTrx) => Promise<void>>
  /** prepareOutcome, then the writes in a transaction of their own. */
  recordOutcome(orgId: string, messageId: string, outcome: DeliveryOutcome, at: number): Promise<void>
}
