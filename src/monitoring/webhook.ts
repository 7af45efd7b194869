import { createHmac } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'
import type { OutboundGuard } from '../net/guard.ts'

export const SIGNATURE_HEADER = 'sealpost-signature'
export const TIMESTAMP_HEADER = 'sealpost-timestamp'
/** Receivers refuse deliveries whose timestamp is further than this from their clock (replay window). */
export const REPLAY_WINDOW_SEC = 300

/** `v1=` HMAC-SHA256(secret, `${timestamp}.${body}`), hex. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/**
 * What a receiver does (and what our tests do): recompute the signature over the
 * raw body, compare in constant time, and refuse stale or future timestamps.
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

export interface WebhookDelivery { url: string; secret: string; body: string; nowSec: number; timeoutMs?: number }

/**
 * One signed POST through the outbound guard (net/guard.ts: SSRF checks, pinned address,
 * no redirects); throws on a non-2xx answer.
 */
export async function postSignedWebhook(outbound: Pick<OutboundGuard, 'post'>, d: WebhookDelivery): Promise<number> {
  const { status } = await outbound.post({
    url: d.url, body: d.body, timeoutMs: d.timeoutMs ?? 5000,
    headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(d.nowSec), [SIGNATURE_HEADER]: signWebhook(d.secret, d.nowSec, d.body), 'user-agent': 'Sealpost-Alerts/1' },
  })
  if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`)
  return status
}
