import { newId } from '../core/ids.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Environment } from '../core/principal.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import type { Insertable } from 'kysely'
import type { WebhookEvent } from './events.ts'
import { enabledEndpoints, insertDeliveries } from './store.ts'
import { payloadCtx, type WebhookDeliveriesTable } from './table.ts'

/** The JSON body POSTed for an event; stored (encrypted) as is, so every retry sends the same bytes. */
export function eventBody(e: WebhookEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, created_at: new Date(e.at).toISOString(), data: e.data })
}

/**
 * Where domains hand over events (messages/ on every delivery outcome). Two phases,
 * like suppressions: `prepare` reads the subscribed endpoints and encrypts each payload
 * now; the function it returns only inserts, so it runs inside the caller's transaction
 * (an event exists exactly when the outcome it describes was committed). On SQLite a
 * query on `db` inside an open transaction would wait forever, hence nothing but inserts.
 */
export function createWebhookOutbox(deps: { db: Db; cipher: FieldCipher }) {
  const none = async () => {}
  return {
    /** `environment`: of the mail the events are about (sandbox endpoints never hear of live mail). */
    async prepare(orgId: string, events: WebhookEvent[], environment: Environment = 'live'): Promise<(trx: DbOrTrx) => Promise<void>> {
      if (!events.length) return none
      const endpoints = (await enabledEndpoints(deps.db, orgId, environment)).map((e) => ({ id: e.id, events: JSON.parse(e.events) as string[] }))
      const pairs = events.flatMap((event) => endpoints.filter((ep) => ep.events.includes(event.type)).map((ep) => ({ event, endpointId: ep.id })))
      if (!pairs.length) return none
      const rows: Insertable<WebhookDeliveriesTable>[] = await Promise.all(pairs.map(async ({ event, endpointId }) => {
        const id = newId('whd', event.at)
        return {
          id, org_id: orgId, endpoint_id: endpointId, event_id: event.id, event_type: event.type,
          payload: await deps.cipher.encrypt(payloadCtx(orgId, id), eventBody(event)),
          state: 'pending' as const, attempts: 0, next_attempt_at: event.at,
          created_at: event.at, updated_at: event.at,
        }
      }))
      return (trx) => insertDeliveries(trx, rows)
    },
  }
}

export type WebhookOutbox = ReturnType<typeof createWebhookOutbox>
