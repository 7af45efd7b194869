import { notFound } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import { canSee, environmentsVisibleTo } from '../access/sandbox.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import { fieldFilter, masks } from '../access/field-filter.ts'
import { messageCtx, eventCtx, type StoredRecipients } from './prepare.ts'
import { findMessage, listEvents, listMessages } from './store.ts'
import type { ListInput } from './schema.ts'
import type { MessageRow } from './table.ts'

const pii = { scope: 'contacts:pii', mask: masks.email }
/**
 * SMTP replies quote recipients (`550 5.1.1 <bob@example.org>: user unknown`): every word of the text
 * that holds an `@` is masked like a recipient. Words are split at whitespace and the punctuation
 * around addresses in replies (one character class, linear time).
 */
const AROUND_ADDRESSES = /([\s<>()[\]{}"'`,;:]+)/u
export const maskAddressesIn = (v: unknown): unknown =>
  (typeof v === 'string' ? v.split(AROUND_ADDRESSES).map((w) => (w.includes('@') ? masks.email(w) : w)).join('') : v)
const piiText = { scope: 'contacts:pii', mask: maskAddressesIn }
const eventView = fieldFilter({ id: true, type: true, at: true, recipients: pii, response: piiText, reason: piiText, attempt: true, retry_at: true })
/** Recipient addresses are contact PII: masked unless the caller has contacts:pii. */
const messageView = fieldFilter({
  id: true, status: true, environment: true, from: true, to: pii, cc: pii, bcc: pii, reply_to: pii, subject: true,
  tags: true, metadata: true, recipient_count: true, delivered_count: true, failed_count: true,
  created_at: true, send_at: true, updated_at: true, events: { nested: eventView }, system: true,
})

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function createMessageReads(deps: { db: Db; cipher: FieldCipher }) {
  async function summary(m: MessageRow) {
    const [subject, recipientsJson] = await Promise.all([
      deps.cipher.decryptText(messageCtx(m.org_id, m.id, 'subject'), m.subject),
      deps.cipher.decryptText(messageCtx(m.org_id, m.id, 'recipients'), m.recipients),
    ])
    const r = JSON.parse(recipientsJson) as StoredRecipients
    const addr = (l: { address: string }[]) => l.map((a) => a.address)
    return {
      id: m.id, status: m.status, environment: m.environment, from: m.from_address,
      to: addr(r.to), cc: addr(r.cc), bcc: addr(r.bcc), reply_to: addr(r.reply_to), subject,
      tags: JSON.parse(m.tags) as string[], recipient_count: m.recipient_count,
      delivered_count: m.delivered_count, failed_count: m.failed_count,
      created_at: iso(m.created_at), send_at: iso(m.send_at), updated_at: iso(m.updated_at),
      // Sealpost's own mail (system-mail/sender.ts): no API key can carry this credential id.
      system: m.credential_id === 'system-mail',
    }
  }

  async function get(principal: Principal, id: string) {
    const m = await findMessage(deps.db, principal.orgId, id)
    // A test credential never reads live mail (access/sandbox.ts): it is as absent as another org's.
    if (!m || !canSee(principal, m.environment)) throw notFound('Message')
    const rows = await listEvents(deps.db, principal.orgId, id)
    const events = await Promise.all(rows.map(async (e) => ({
      id: e.id, type: e.type, at: iso(e.at),
      ...(e.detail ? JSON.parse(await deps.cipher.decryptText(eventCtx(e.org_id, e.id), e.detail)) : {}),
    })))
    return messageView(principal, { ...(await summary(m)), events })
  }

  async function list(principal: Principal, q: ListInput) {
    const limit = q.limit ?? 20
    const rows = await listMessages(deps.db, principal.orgId, {
      limit, cursor: q.cursor, status: q.status, tag: q.tag, environments: environmentsVisibleTo(principal),
      createdAfter: q.created_after ? Date.parse(q.created_after) : undefined,
      createdBefore: q.created_before ? Date.parse(q.created_before) : undefined,
    })
    const page = rows.slice(0, limit)
    const data = await Promise.all(page.map(summary))
    return { data: messageView.many(principal, data), next_cursor: rows.length > limit ? page[page.length - 1].id : null }
  }

  /** Every recipient of a message in to, cc, bcc order (the index of a one-click unsubscribe link). */
  async function recipientsOf(orgId: string, messageId: string): Promise<string[] | null> {
    const m = await findMessage(deps.db, orgId, messageId)
    if (!m) return null
    const r = JSON.parse(await deps.cipher.decryptText(messageCtx(orgId, m.id, 'recipients'), m.recipients)) as StoredRecipients
    return [...r.to, ...r.cc, ...r.bcc].map((a) => a.address)
  }

  return { get, list, recipientsOf }
}

export type MessageReads = ReturnType<typeof createMessageReads>
