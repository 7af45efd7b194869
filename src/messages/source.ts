import { newId } from '../core/ids.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import type { DeliveryOutcome, MessageSource, OutboundMessage } from '../delivery/contract.ts'
import { messageCtx, eventCtx, type StoredContent, type StoredRecipients } from './prepare.ts'
import { addOutcomeCounts, findMessage, insertEvents, setStatus } from './store.ts'
import type { MessageRow, MessageStatus } from './table.ts'

/** How delivery gets the DKIM key of the message's sending domain (domains/ implements it). */
export interface SigningKeys {
  signingKeyFor(orgId: string, domainName: string): Promise<(OutboundMessage['dkim'] & { verified: boolean }) | null>
}

/** Where delivery outcomes feed the suppression list (suppressions/ implements it). */
export interface BounceSink {
  /** Encrypts now; the returned function only inserts (inside the worker's transaction). */
  prepare(orgId: string, address: string, reason: 'hard_bounce', messageId: string): Promise<(db: DbOrTrx) => Promise<unknown>>
}

/** Where outcomes become customer webhook events (webhooks/ implements it). */
export interface OutcomeEvents {
  /** Looks up subscribers and encrypts now; the returned function only inserts (inside the worker's transaction). */
  prepare(orgId: string, events: { id: string; type: `message.${'delivered' | 'deferred' | 'failed' | 'bounced' | 'sandboxed'}`; at: number; data: Record<string, unknown> }[], environment?: 'live' | 'test'): Promise<(db: DbOrTrx) => Promise<void>>
}

export interface MessageSourceDeps {
  db: Db
  cipher: FieldCipher
  keys: SigningKeys
  suppressions: BounceSink
  /** Optional: webhook events for each outcome, committed with it. */
  events?: OutcomeEvents
  /** One-click unsubscribe URL (RFC 8058) for one recipient of a message (index in to, cc, bcc), when the message asked for one. */
  unsubscribeUrl(orgId: string, messageId: string, recipientIndex: number): string
}

/** Once every recipient has a final outcome, the message's status says how it ended. */
function finalStatus(m: Pick<MessageRow, 'recipient_count' | 'delivered_count' | 'failed_count'>): MessageStatus | null {
  if (m.delivered_count + m.failed_count < m.recipient_count) return null
  if (m.failed_count === 0) return 'delivered'
  return m.delivered_count === 0 ? 'failed' : 'partially_delivered'
}

/** Names were validated at send time (no quotes, backslashes, brackets or CR/LF), so quoting them is safe. */
const mailbox = (a: { address: string; name?: string }) => (a.name ? `"${a.name}" <${a.address}>` : a.address)

/** The delivery side of messages/: decrypts for the worker and records what happened. */
export function createMessageSource(deps: MessageSourceDeps): MessageSource {
  const source: MessageSource = {
    async loadForDelivery(orgId, messageId) {
      const m = await findMessage(deps.db, orgId, messageId)
      if (!m) return null
      const [subject, recipientsJson, contentJson] = await Promise.all([
        deps.cipher.decryptText(messageCtx(orgId, m.id, 'subject'), m.subject),
        deps.cipher.decryptText(messageCtx(orgId, m.id, 'recipients'), m.recipients),
        deps.cipher.decryptText(messageCtx(orgId, m.id, 'content'), m.content),
      ])
      const r = JSON.parse(recipientsJson) as StoredRecipients
      const c = JSON.parse(contentJson) as StoredContent
      const domain = m.from_address.slice(m.from_address.lastIndexOf('@') + 1)
      const key = await deps.keys.signingKeyFor(orgId, domain)
      // The sending domain was deleted after the message was accepted: refuse to send unsigned.
      if (!key) return null
      const { verified, ...dkim } = key
      const recipientCount = r.to.length + r.cc.length + r.bcc.length
      return {
        id: m.id, orgId, environment: m.environment,
        from: mailbox({ address: m.from_address, name: r.from_name }),
        to: r.to.map(mailbox), cc: r.cc.map(mailbox), bcc: r.bcc.map((a) => a.address), replyTo: r.reply_to.map(mailbox),
        subject, text: c.text, html: c.html,
        headers: Object.fromEntries(c.headers.map((h) => [h.name, h.value])),
        // One link per recipient, so one click unsubscribes exactly the one who clicked.
        ...(c.unsubscribe ? {
          perRecipient: Array.from({ length: recipientCount }, (_, i) => ({
            headers: { 'List-Unsubscribe': `<${deps.unsubscribeUrl(orgId, m.id, i)}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
          })),
        } : {}),
        attachments: c.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
        messageIdHeader: m.message_id_header,
        dkim,
        senderVerified: verified,
      }
    },

    async prepareOutcome(orgId, messageId, outcome: DeliveryOutcome, at) {
      const eventId = newId('evt', at)
      const detail: Record<string, unknown> = { recipients: outcome.recipients }
      if (outcome.kind === 'delivered') detail.response = outcome.response
      if (outcome.kind === 'deferred') Object.assign(detail, { reason: outcome.reason, attempt: outcome.attempt, retry_at: new Date(outcome.retryAt).toISOString() })
      if (outcome.kind === 'failed') Object.assign(detail, { reason: outcome.reason })
      const type = outcome.kind === 'failed' && outcome.bounce === 'hard' ? 'bounced' : outcome.kind
      const encrypted = await deps.cipher.encrypt(eventCtx(orgId, eventId), JSON.stringify(detail))
      const suppress = outcome.kind === 'failed' && outcome.bounce === 'hard'
        ? await Promise.all(outcome.recipients.map((r) => deps.suppressions.prepare(orgId, r, 'hard_bounce', messageId)))
        : []
      // Only test mail is sandboxed; everything else happened to live mail (access/sandbox.ts).
      const emit = await deps.events?.prepare(orgId, [{ id: eventId, type: `message.${type}`, at, data: { message_id: messageId, ...detail } }], outcome.kind === 'sandboxed' ? 'test' : 'live')
      return async (trx: DbOrTrx) => {
        await insertEvents(trx, [{ id: eventId, org_id: orgId, message_id: messageId, type, at, detail: encrypted }])
        if (emit) await emit(trx)
        if (outcome.kind === 'sandboxed') return setStatus(trx, orgId, messageId, 'sandboxed', at)
        if (outcome.kind === 'deferred') return setStatus(trx, orgId, messageId, 'deferred', at)
        for (const insert of suppress) await insert(trx)
        const n = outcome.recipients.length
        const row = await addOutcomeCounts(trx, orgId, messageId, outcome.kind === 'delivered' ? n : 0, outcome.kind === 'failed' ? n : 0, at)
        const status = row && finalStatus(row)
        if (status) await setStatus(trx, orgId, messageId, status, at)
      }
    },

    async recordOutcome(orgId, messageId, outcome, at) {
      await deps.db.transaction().execute(await source.prepareOutcome(orgId, messageId, outcome, at))
    },
  }
  return source
}
