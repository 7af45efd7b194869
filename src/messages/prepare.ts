import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Insertable } from 'kysely'
import type { MessagesTable, MessageEventsTable } from './table.ts'
import { recipientsOf, recipientDomains, type Draft } from './draft.ts'

/** Where each encrypted column lives: the AAD binds a ciphertext to its row. */
export const messageCtx = (orgId: string, id: string, column: 'subject' | 'recipients' | 'content') =>
  ({ orgId, table: 'messages', column, rowId: id })
export const eventCtx = (orgId: string, id: string) => ({ orgId, table: 'message_events', column: 'detail', rowId: id })

export interface StoredRecipients {
  from_name?: string
  to: { address: string; name?: string }[]
  cc: { address: string; name?: string }[]
  bcc: { address: string; name?: string }[]
  reply_to: { address: string; name?: string }[]
}

export interface StoredContent {
  text?: string
  html?: string
  headers: { name: string; value: string }[]
  attachments: { filename: string; contentType: string; disposition: string; contentId?: string; content: string }[]
  metadata: Record<string, string>
  unsubscribe?: boolean
}

export interface PreparedMessage {
  row: Insertable<MessagesTable>
  events: Insertable<MessageEventsTable>[]
  recipientDomains: string[]
  runAt: number
}

const pick = ({ address, name }: { address: string; name?: string }) => (name ? { address, name } : { address })

/**
 * Encrypts a validated draft into the rows to insert. `suppressed` recipients
 * were dropped by the caller; when nobody is left the message is stored as
 * `suppressed` and never queued.
 */
export async function prepareMessage(cipher: FieldCipher, principal: Principal, draft: Draft, domainId: string, now: number, suppressed = 0): Promise<PreparedMessage> {
  const id = newId('msg', now)
  const { orgId } = principal
  const recipients: StoredRecipients = {
    ...(draft.from.name ? { from_name: draft.from.name } : {}),
    to: draft.to.map(pick), cc: draft.cc.map(pick), bcc: draft.bcc.map(pick), reply_to: draft.replyTo.map(pick),
  }
  const content: StoredContent = {
    text: draft.text, html: draft.html, headers: draft.headers, metadata: draft.metadata,
    ...(draft.unsubscribe ? { unsubscribe: true } : {}),
    attachments: draft.attachments.map((a) => ({
      filename: a.filename, contentType: a.contentType, disposition: a.disposition,
      ...(a.contentId ? { contentId: a.contentId } : {}), content: a.content.toString('base64'),
    })),
  }
  const [subject, recipientsCt, contentCt] = await Promise.all([
    cipher.encrypt(messageCtx(orgId, id, 'subject'), draft.subject),
    cipher.encrypt(messageCtx(orgId, id, 'recipients'), JSON.stringify(recipients)),
    cipher.encrypt(messageCtx(orgId, id, 'content'), JSON.stringify(content)),
  ])
  const scheduled = draft.sendAt !== null
  const count = recipientsOf(draft).length
  const status = count === 0 ? 'suppressed' : scheduled ? 'scheduled' : 'queued'
  const events: Insertable<MessageEventsTable>[] = []
  if (suppressed) {
    const eid = newId('evt', now)
    events.push({ id: eid, org_id: orgId, message_id: id, type: 'suppressed', at: now, detail: await cipher.encrypt(eventCtx(orgId, eid), JSON.stringify({ reason: `${suppressed} recipient(s) on the suppression list were dropped` })) })
  }
  if (count) events.push({ id: newId('evt', now), org_id: orgId, message_id: id, type: status as 'queued' | 'scheduled', at: now, detail: null })
  return {
    row: {
      id, org_id: orgId, credential_id: principal.credentialId, environment: principal.environment,
      status, from_address: draft.from.address, domain_id: domainId,
      subject, recipients: recipientsCt, content: contentCt,
      recipient_count: count, delivered_count: 0, failed_count: 0,
      tags: JSON.stringify(draft.tags), message_id_header: `<${id}@${draft.from.domain}>`,
      send_at: draft.sendAt, created_at: now, updated_at: now,
    },
    events,
    recipientDomains: recipientDomains(draft),
    runAt: draft.sendAt ?? now,
  }
}
