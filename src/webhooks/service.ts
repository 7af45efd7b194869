import { AppError, notFound } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import { DAY, type Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'
import { canSee, environmentsVisibleTo } from '../access/sandbox.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.ts'
import { deleteEndpoint, findEndpoint, insertEndpoint, listAttempts, listEndpoints, updateEndpoint } from './store.ts'
import { endpointSecretCtx, type WebhookEndpointRow } from './table.ts'
import { newStandardSecret } from './signature.ts'
import type { WebhookTransport } from './transport.ts'

/** How long the secret before a rotation keeps signing alongside the new one. */
export const ROTATION_OVERLAP_MS = DAY

export interface WebhookServiceDeps {
  db: Db
  cipher: FieldCipher
  clock: Clock
  audit: AuditRecorder
  transport: WebhookTransport
}

export interface CreateWebhookInput { url: string; events?: WebhookEventType[]; description?: string; enabled?: boolean }
export type UpdateWebhookInput = Partial<CreateWebhookInput>

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
/** Standard Webhooks secrets (signature.ts); an endpoint created before them gets one at its next rotation. */
const newSecret = newStandardSecret
/** One answer for every refused URL, so create-time checks tell nothing about internal DNS. */
const refusedUrl = (cause?: unknown) => new AppError('url_not_allowed', 'url must be a public https:// endpoint without credentials.', { details: [{ path: '/url', message: 'refused' }], cause })

/** Never the secret: it is shown once, at creation and rotation. */
export function endpointView(row: WebhookEndpointRow, now: number) {
  const overlap = row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now ? row.previous_secret_expires_at : null
  return {
    id: row.id, url: row.url, description: row.description, events: JSON.parse(row.events) as string[], enabled: row.enabled === 1, environment: row.environment,
    previous_secret_expires_at: iso(overlap), created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)!,
  }
}

/** Customer webhook endpoints: create, read, change, delete, rotate the signing secret, see attempts. */
export function createWebhookService(deps: WebhookServiceDeps) {
  const now = () => deps.clock.now().getTime()
  const audit = (p: Principal, action: string, id: string, details?: Record<string, unknown>) =>
    deps.audit.record({ orgId: p.orgId, actor: p.actor, action, target: { type: 'webhook', id }, ...(details ? { details } : {}) })

  /** The outbound guard's configuration-time check (net/guard.ts); the stored URL is the normalised one it checked. */
  async function checkUrl(raw: string): Promise<string> {
    let u: URL
    try { u = (await deps.transport.check(raw)).url } catch (err) { throw refusedUrl(err) }
    u.hash = ''
    return u.href
  }

  async function load(p: Principal, id: string): Promise<WebhookEndpointRow> {
    const row = await findEndpoint(deps.db, p.orgId, id)
    // Another environment's endpoint is as absent as another organization's (access/sandbox.ts).
    if (!row || !canSee(p, row.environment)) throw notFound('Webhook')
    return row
  }

  return {
    async create(p: Principal, input: CreateWebhookInput) {
      const url = await checkUrl(input.url)
      const at = now()
      const id = newId('whk', at)
      const secret = newSecret()
      const row: WebhookEndpointRow = {
        id, org_id: p.orgId, url, description: input.description ?? null,
        events: JSON.stringify(input.events ?? WEBHOOK_EVENT_TYPES), enabled: input.enabled === false ? 0 : 1,
        secret: await deps.cipher.encrypt(endpointSecretCtx(p.orgId, id, 'secret'), secret),
        previous_secret: null, previous_secret_expires_at: null, environment: p.environment, created_at: at, updated_at: at,
      }
      await insertEndpoint(deps.db, row)
      audit(p, 'webhook.created', id, { events: JSON.parse(row.events) })
      return { ...endpointView(row, at), secret }
    },

    async list(p: Principal, q: { limit?: number; cursor?: string }) {
      const limit = q.limit ?? 50
      const rows = await listEndpoints(deps.db, p.orgId, environmentsVisibleTo(p), limit, q.cursor)
      const page = rows.slice(0, limit)
      return { data: page.map((r) => endpointView(r, now())), next_cursor: rows.length > limit ? page[page.length - 1].id : null }
    },

    async get(p: Principal, id: string) {
      return endpointView(await load(p, id), now())
    },

    async update(p: Principal, id: string, input: UpdateWebhookInput) {
      await load(p, id)
      const set: Parameters<typeof updateEndpoint>[3] = { updated_at: now() }
      if (input.url !== undefined) set.url = await checkUrl(input.url)
      if (input.events !== undefined) set.events = JSON.stringify(input.events)
      if (input.description !== undefined) set.description = input.description
      if (input.enabled !== undefined) set.enabled = input.enabled ? 1 : 0
      if (!(await updateEndpoint(deps.db, p.orgId, id, set))) throw notFound('Webhook')
      audit(p, 'webhook.updated', id, { fields: Object.keys(input) })
      return endpointView(await load(p, id), now())
    },

    async remove(p: Principal, id: string) {
      await load(p, id)
      if (!(await deleteEndpoint(deps.db, p.orgId, id))) throw notFound('Webhook')
      audit(p, 'webhook.deleted', id)
    },

    /**
     * New secret now; the current one keeps signing beside it for ROTATION_OVERLAP_MS (a second
     * webhook-signature entry, or for a legacy secret its Sealpost-Signature `v1=` only). This is
     * also how an endpoint with a legacy secret moves to Standard Webhooks.
     */
    async rotateSecret(p: Principal, id: string) {
      const row = await load(p, id)
      const at = now()
      const secret = newSecret()
      const current = await deps.cipher.decryptText(endpointSecretCtx(p.orgId, id, 'secret'), row.secret)
      const set = {
        secret: await deps.cipher.encrypt(endpointSecretCtx(p.orgId, id, 'secret'), secret),
        previous_secret: await deps.cipher.encrypt(endpointSecretCtx(p.orgId, id, 'previous_secret'), current),
        previous_secret_expires_at: at + ROTATION_OVERLAP_MS,
        updated_at: at,
      }
      if (!(await updateEndpoint(deps.db, p.orgId, id, set))) throw notFound('Webhook')
      audit(p, 'webhook.secret_rotated', id)
      return { ...endpointView({ ...row, ...set }, at), secret }
    },

    async deliveries(p: Principal, id: string, q: { limit?: number; cursor?: string }) {
      await load(p, id)
      const limit = q.limit ?? 50
      const rows = await listAttempts(deps.db, p.orgId, id, limit, q.cursor)
      const page = rows.slice(0, limit)
      return {
        data: page.map((a) => ({
          id: a.id, delivery_id: a.delivery_id, event_id: a.event_id, event_type: a.event_type, attempt: a.attempt,
          attempted_at: iso(a.at), ok: a.ok === 1, status_code: a.status_code, duration_ms: a.duration_ms, error: a.error,
          delivery_state: a.state ?? null, next_attempt_at: a.state === 'pending' ? iso(a.next_attempt_at ?? null) : null,
        })),
        next_cursor: rows.length > limit ? page[page.length - 1].id : null,
      }
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
