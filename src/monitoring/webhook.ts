import { createHmac } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'
import type { OutboundGuard } from '../net/guard.ts'
import { standardSecretKey, standardSignature, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../webhooks/signature.ts'

/**
 * Alert webhooks are signed like customer webhooks (webhooks/signature.ts): Standard Webhooks
 * headers (`webhook-id` = the alert id, `webhook-timestamp`, `webhook-signature`) when the policy's
 * secret is a Standard Webhooks one, which every secret set since is. The legacy pair below is
 * sent beside them for one release, and alone for a secret set before (rotate it to move on).
 */
export const SIGNATURE_HEADER = 'sealpost-signature'
export const TIMESTAMP_HEADER = 'sealpost-timestamp'
/** Receivers refuse deliveries whose timestamp is further than this from their clock (replay window). */
export const REPLAY_WINDOW_SEC = 300

/** Legacy (deprecated): `v1=` HMAC-SHA256(secret string, `${timestamp}.${body}`), hex. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/**
 * Legacy receivers (deprecated: use a Standard Webhooks library on webhook-signature): recompute
 * the signature over the raw body, compare in constant time, and refuse stale or future timestamps.
 * Receivers should also remember `alert.id` + timestamp pairs for the window to
 * refuse exact replays inside it.
 */
export function verifyWebhook(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string, nowSec: number, windowSec = REPLAY_WINDOW_SEC): boolean {
  const ts = Number(headers[TIMESTAMP_HEADER])
  const sig = headers[SIGNATURE_HEADER]
  if (!Number.isInteger(ts) || typeof sig !== 'string') return false
  if (Math.abs(nowSec - ts) > windowSec) return false
  return safeEqual(signWebhook(secret, ts, rawBody), sig)
}

/** `id`: the alert's id, the same on every retry of this notification (receivers de-duplicate on it). */
export interface WebhookDelivery { url: string; id: string; secret: string; body: string; nowSec: number; timeoutMs?: number }

/** The signature headers of one attempt (both schemes, or the legacy pair alone for a legacy secret). */
export function alertSignatureHeaders(d: Pick<WebhookDelivery, 'id' | 'secret' | 'body' | 'nowSec'>): Record<string, string> {
  const headers: Record<string, string> = { [TIMESTAMP_HEADER]: String(d.nowSec), [SIGNATURE_HEADER]: signWebhook(d.secret, d.nowSec, d.body) }
  const key = standardSecretKey(d.secret)
  if (key) {
    headers[WEBHOOK_ID_HEADER] = d.id
    headers[WEBHOOK_TIMESTAMP_HEADER] = String(d.nowSec)
    headers[WEBHOOK_SIGNATURE_HEADER] = standardSignature(key, d.id, d.nowSec, d.body)
  }
  return headers
}

/**
 * One signed POST through the outbound guard (net/guard.ts: SSRF checks, pinned address,
 * no redirects); throws on a non-2xx answer.
 */
export async function postSignedWebhook(outbound: Pick<OutboundGuard, 'post'>, d: WebhookDelivery): Promise<number> {
  const { status } = await outbound.post({
    url: d.url, body: d.body, timeoutMs: d.timeoutMs ?? 5000,
    headers: { 'content-type': 'application/json', ...alertSignatureHeaders(d), 'user-agent': 'Sealpost-Alerts/1' },
  })
  if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`)
  return status
}
