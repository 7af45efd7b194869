import type { Selectable } from 'kysely'

export interface WebhookEndpointsTable {
  id: string
  org_id: string
  url: string
  description: string | null
  /** JSON array of event type names the endpoint receives. */
  events: string
  enabled: number
  /** Encrypted: the current signing secret (`whsec_…`). */
  secret: string
  /** Encrypted: the secret before the last rotation, still signing until previous_secret_expires_at. */
  previous_secret: string | null
  previous_secret_expires_at: number | null
  /** Of the credential that created it (access/sandbox.ts). */
  environment: 'live' | 'test'
  created_at: number
  updated_at: number
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed'

/** The outbox: one row per (event, endpoint), written in the transaction that records the event. */
export interface WebhookDeliveriesTable {
  id: string
  org_id: string
  endpoint_id: string
  event_id: string
  event_type: string
  /** Encrypted JSON body exactly as POSTed (holds recipient addresses); null once final. */
  payload: string | null
  state: WebhookDeliveryState
  attempts: number
  next_attempt_at: number
  lease_owner: string | null
  lease_until: number | null
  created_at: number
  updated_at: number
  completed_at: number | null
}

/** One POST to an endpoint and how it went (never the secret, never the payload). */
export interface WebhookAttemptsTable {
  id: string
  org_id: string
  endpoint_id: string
  delivery_id: string
  event_id: string
  event_type: string
  attempt: number
  at: number
  status_code: number | null
  duration_ms: number
  error: string | null
  ok: number
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable
  webhook_deliveries: WebhookDeliveriesTable
  webhook_attempts: WebhookAttemptsTable
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>

/** Where each encrypted column lives: the AAD binds a ciphertext to its row. */
export const endpointSecretCtx = (orgId: string, id: string, column: 'secret' | 'previous_secret') =>
  ({ orgId, table: 'webhook_endpoints', column, rowId: id })
export const payloadCtx = (orgId: string, id: string) => ({ orgId, table: 'webhook_deliveries', column: 'payload', rowId: id })

/** Columns under envelope encryption, for data-key rotation (crypto/registry.ts). */
export const webhookEncryptedColumns = [
  { table: 'webhook_endpoints', column: 'secret', idColumn: 'id', orgColumn: 'org_id' },
  { table: 'webhook_endpoints', column: 'previous_secret', idColumn: 'id', orgColumn: 'org_id' },
  { table: 'webhook_deliveries', column: 'payload', idColumn: 'id', orgColumn: 'org_id' },
]
