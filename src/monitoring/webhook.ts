import { createHmac, createHash, timingSafeEqual } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import ipaddr from 'ipaddr.js'

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
  // Compare digests of equal length, so neither length nor content leaks through timing.
  const a = createHash('sha256').update(signWebhook(secret, ts, rawBody)).digest()
  const b = createHash('sha256').update(sig).digest()
  return timingSafeEqual(a, b)
}

/** SSRF guard: the webhook host must resolve only to public unicast addresses (unless private targets are allowed). */
export async function assertPublicTarget(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addrs = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)
  for (const a of addrs) {
    let parsed = ipaddr.parse(a)
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address()
    if (parsed.range() !== 'unicast') throw new Error(`webhook target ${host} resolves to a non-public address (${parsed.range()})`)
  }
}

export interface WebhookDelivery { url: string; secret: string; body: string; nowSec: number; allowPrivate: boolean; timeoutMs?: number }

/** One signed POST; throws on a non-2xx answer. Redirects are not followed (they could point inside). */
export async function postSignedWebhook(d: WebhookDelivery): Promise<number> {
  const url = new URL(d.url)
  await assertPublicTarget(url, d.allowPrivate)
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(d.timeoutMs ?? 5000),
    headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(d.nowSec), [SIGNATURE_HEADER]: signWebhook(d.secret, d.nowSec, d.body), 'user-agent': 'Sealpost-Alerts/1' },
    body: d.body,
  })
  await res.arrayBuffer().catch(() => undefined)
  if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`)
  return res.status
}
