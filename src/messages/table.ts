import type { Selectable } from 'kysely'

export type MessageStatus =
  | 'scheduled' | 'queued' | 'deferred' | 'delivered' | 'partially_delivered' | 'failed' | 'sandboxed' | 'suppressed'

export interface MessagesTable {
  id: string
  org_id: string
  /** Key or OAuth client that sent it. */
  credential_id: string
  environment: 'live' | 'test'
  status: MessageStatus
  /** Sender address (on one of the org's domains; not personal data of a recipient). */
  from_address: string
  domain_id: string
  /** Encrypted: subject. */
  subject: string
  /** Encrypted JSON: { to, cc, bcc, reply_to, from_name }. */
  recipients: string
  /** Encrypted JSON: { text, html, headers, attachments, metadata }. */
  content: string
  recipient_count: number
  delivered_count: number
  failed_count: number
  /** JSON array of tag strings (not encrypted: used for filtering; documented as non-PII). */
  tags: string
  message_id_header: string
  send_at: number | null
  created_at: number
  updated_at: number
}

export interface MessageEventsTable {
  id: string
  org_id: string
  message_id: string
  type: 'accepted' | 'scheduled' | 'queued' | 'delivered' | 'deferred' | 'failed' | 'bounced' | 'sandboxed' | 'suppressed'
  at: number
  /** Encrypted JSON: { recipients, response | reason, attempt }. */
  detail: string | null
}

export interface IdempotencyKeysTable {
  org_id: string
  /** Keyed per environment: a test credential's key never replays a live send. */
  environment: 'live' | 'test'
  key: string
  request_hash: string
  status_code: number
  response: string
  created_at: number
  expires_at: number
}

export interface MessageTables {
  messages: MessagesTable
  message_events: MessageEventsTable
  idempotency_keys: IdempotencyKeysTable
}

export type MessageRow = Selectable<MessagesTable>

/** Columns under envelope encryption, for data-key rotation (crypto/registry.ts). */
export const messageEncryptedColumns = [
  { table: 'messages', column: 'subject', idColumn: 'id', orgColumn: 'org_id' },
  { table: 'messages', column: 'recipients', idColumn: 'id', orgColumn: 'org_id' },
  { table: 'messages', column: 'content', idColumn: 'id', orgColumn: 'org_id' },
  { table: 'message_events', column: 'detail', idColumn: 'id', orgColumn: 'org_id' },
]
