import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Webhook signatures, Stripe-style:
 *   Sealpost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<…>]
 * The timestamp is inside the MAC, so a receiver that refuses old timestamps refuses
 * replays. During a secret rotation each live secret adds its own `v1=`, so a receiver
 * holding either the old or the new secret accepts the delivery.
 * This file imports nothing of Sealpost: receivers can copy it as is.
 */
export const SIGNATURE_HEADER = 'Sealpost-Signature'
export const EVENT_ID_HEADER = 'Sealpost-Event-Id'
export const EVENT_TYPE_HEADER = 'Sealpost-Event-Type'
/** What receivers should allow between our timestamp and their clock. */
export const DEFAULT_TOLERANCE_SEC = 300

const mac = (secret: string, t: number, body: string | Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')

/** The header value for `body` sent at `t`, one `v1=` per secret (current first). */
export function signatureHeader(secrets: readonly string[], t: number, body: string): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${mac(s, t, body)}`)].join(',')
}

/**
 * For receivers: true when `header` carries a valid `v1` signature of the raw `body`
 * under `secret` and its timestamp is within `toleranceSec` of now. Compare the raw
 * bytes you received, before any JSON parsing. Fixed answer (false) for every failure.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | string[] | undefined | null,
  body: string | Buffer,
  toleranceSec: number = DEFAULT_TOLERANCE_SEC,
  nowSec: number = Math.floor(Date.now() / 1000),
): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false
  let t: number | null = null
  const candidates: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't') {
      // A second timestamp is ambiguous: refuse rather than pick one.
      if (t !== null || !/^\d{1,12}$/.test(value)) return false
      t = Number(value)
    } else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      candidates.push(value)
    }
  }
  if (t === null || !candidates.length) return false
  if (Math.abs(nowSec - t) > toleranceSec) return false
  const expected = Buffer.from(mac(secret, t, body), 'hex')
  let ok = false
  // Every candidate is compared (no early exit), each in constant time.
  for (const c of candidates) ok = timingSafeEqual(expected, Buffer.from(c, 'hex')) || ok
  return ok
}
