import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { BaseLogger } from 'pino'
import { DAY, HOUR, type Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import { backoffDelay, type BackoffPolicy } from '../queue/backoff.ts'
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, signatureHeaders } from './signature.ts'
import { claimDue, findEndpoint, pruneHistory, settleDelivery } from './store.ts'
import { endpointSecretCtx, payloadCtx, type WebhookDeliveryRow, type WebhookDeliveriesTable } from './table.ts'
import type { WebhookTransport } from './transport.ts'
import type { Updateable } from 'kysely'

export interface DispatcherConfig {
  /** Idle poll interval. */
  pollMs: number
  /** How long a claimed row is ours; well above timeoutMs, so a live dispatcher never loses it mid-POST. */
  leaseMs: number
  /** Rows claimed per round, and POSTs in flight at once. */
  batch: number
  timeoutMs: number
  backoff: BackoffPolicy
  /** An event still undelivered this long after it happened is failed. */
  giveUpAfterMs: number
  /** Attempt history and finished rows are kept this long. */
  retentionMs: number
}

export const DEFAULT_DISPATCHER_CONFIG: DispatcherConfig = {
  pollMs: 1000, leaseMs: 60_000, batch: 16, timeoutMs: 10_000,
  // 30 s, 1 min, 2 min … capped at 4 h: about 14 attempts in the 24 h before giving up.
  backoff: { baseMs: 30_000, maxMs: 4 * HOUR }, giveUpAfterMs: DAY, retentionMs: 30 * DAY,
}

export interface DispatcherDeps {
  db: Db
  cipher: FieldCipher
  clock: Clock
  transport: WebhookTransport
  logger: Pick<BaseLogger, 'warn' | 'debug'>
  config?: Partial<DispatcherConfig>
  /** Jitter source (tests pin it). */
  random?: () => number
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 297)}...` : s)

/**
 * Delivers the outbox: claims due rows with a lease, signs and POSTs each one, records
 * the attempt, and reschedules failures with exponential back-off and jitter until
 * giveUpAfterMs, then marks them failed. At least once: a dispatcher that dies mid-POST
 * leaves its lease to expire and another sends again (same webhook-id and Sealpost-Event-Id).
 */
export function createWebhookDispatcher(deps: DispatcherDeps) {
  const cfg = { ...DEFAULT_DISPATCHER_CONFIG, ...deps.config }
  const now = () => deps.clock.now().getTime()
  const owner = `${process.pid}:${randomBytes(8).toString('hex')}`

  /** Current secret, plus the previous one while its rotation overlap lasts. */
  async function secretsOf(row: WebhookDeliveryRow, ep: { id: string; secret: string; previous_secret: string | null; previous_secret_expires_at: number | null }): Promise<string[]> {
    const secrets = [await deps.cipher.decryptText(endpointSecretCtx(row.org_id, ep.id, 'secret'), ep.secret)]
    if (ep.previous_secret && ep.previous_secret_expires_at !== null && ep.previous_secret_expires_at > now()) {
      secrets.push(await deps.cipher.decryptText(endpointSecretCtx(row.org_id, ep.id, 'previous_secret'), ep.previous_secret))
    }
    return secrets
  }

  type Endpoint = NonNullable<Awaited<ReturnType<typeof findEndpoint>>>
  /** What one attempt came to; `final` ends the event without retries (nothing a retry could fix). */
  interface Attempt { status: number | null; error: string | null; durationMs: number; final: boolean }
  const stop = (error: string): Attempt => ({ status: null, error, durationMs: 0, final: true })

  /** Decrypt, sign with every live secret, POST once. */
  async function attempt(row: WebhookDeliveryRow, ep: Endpoint): Promise<Attempt> {
    let body: string, secrets: string[]
    try {
      body = await deps.cipher.decryptText(payloadCtx(row.org_id, row.id), row.payload ?? '')
      secrets = await secretsOf(row, ep)
    } catch (err) {
      deps.logger.warn({ err, deliveryId: row.id, endpointId: ep.id }, 'webhook: payload or secret does not decrypt; failed')
      return stop('payload unreadable')
    }
    const t = Math.floor(now() / 1000)
    const started = performance.now()
    let status: number | null = null
    let error: string | null = null
    try {
      status = (await deps.transport.post({
        url: ep.url, body, timeoutMs: cfg.timeoutMs,
        headers: {
          'content-type': 'application/json', 'user-agent': 'Sealpost-Webhooks/1',
          // Standard Webhooks (webhook-id is the event id, so every retry carries the same one) and the legacy header.
          ...signatureHeaders(secrets, row.event_id, t, body), [EVENT_ID_HEADER]: row.event_id, [EVENT_TYPE_HEADER]: row.event_type,
        },
      })).status
      if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `answered ${status} (redirects are not followed)` : `answered ${status}`
    } catch (err) {
      error = short((err as Error).message || String(err))
    }
    return { status, error, durationMs: Math.round(performance.now() - started), final: false }
  }

  async function deliver(row: WebhookDeliveryRow): Promise<void> {
    const ep = await findEndpoint(deps.db, row.org_id, row.endpoint_id)
    // Deleting an endpoint deletes its rows too; one still here is failed rather than retried forever.
    const result = !ep ? stop('endpoint deleted') : !ep.enabled ? stop('endpoint disabled') : !row.payload ? stop('payload missing') : await attempt(row, ep)
    const at = now()
    const ok = result.error === null
    let next: Updateable<WebhookDeliveriesTable>
    if (ok) {
      next = { state: 'delivered', payload: null, completed_at: at, updated_at: at }
    } else {
      const retryAt = at + backoffDelay(row.attempts, cfg.backoff, deps.random)
      next = result.final || retryAt > row.created_at + cfg.giveUpAfterMs
        ? { state: 'failed', payload: null, completed_at: at, updated_at: at }
        : { next_attempt_at: retryAt, updated_at: at }
    }
    const kept = await settleDelivery(deps.db, row, owner, next, {
      id: newId('wha', at), org_id: row.org_id, endpoint_id: row.endpoint_id, delivery_id: row.id, event_id: row.event_id,
      event_type: row.event_type, attempt: row.attempts, at, status_code: result.status, duration_ms: result.durationMs, error: result.error, ok: ok ? 1 : 0,
    })
    if (!kept) deps.logger.warn({ deliveryId: row.id }, 'webhook: lease lost before the attempt was recorded; another dispatcher owns it')
    else if (!ok) deps.logger.debug({ deliveryId: row.id, endpointId: row.endpoint_id, attempt: row.attempts, status: result.status, state: next.state ?? 'pending' }, 'webhook attempt failed')
  }

  let timer: NodeJS.Timeout | null = null
  let running: Promise<unknown> | null = null
  let stopped = true
  let prunedAt = 0

  /** One round: claim what is due and deliver it. Returns how many rows were handled. */
  async function runOnce(): Promise<number> {
    const rows = await claimDue(deps.db, owner, now(), cfg.leaseMs, cfg.batch)
    await Promise.all(rows.map((r) => deliver(r).catch((err) => deps.logger.warn({ err, deliveryId: r.id }, 'webhook delivery crashed; retried after its lease'))))
    if (now() - prunedAt > HOUR) {
      prunedAt = now()
      await pruneHistory(deps.db, prunedAt - cfg.retentionMs)
    }
    return rows.length
  }

  function loop(): void {
    if (stopped) return
    running = runOnce()
      .catch((err) => { deps.logger.warn({ err }, 'webhook dispatcher round failed'); return 0 })
      .then((n) => { if (!stopped) timer = setTimeout(loop, n === cfg.batch ? 0 : cfg.pollMs) })
  }

  return {
    runOnce,
    start() { if (stopped) { stopped = false; loop() } },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>
