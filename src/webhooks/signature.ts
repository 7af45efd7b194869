import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Webhook signatures. This file imports nothing of Sealpost: receivers can copy it as is.
 *
 * Standard Webhooks (https://www.standardwebhooks.com), what every delivery carries once its
 * endpoint has a Standard Webhooks secret:
 *   webhook-id:        the event id, the same on every retry (receivers de-duplicate on it)
 *   webhook-timestamp: unix seconds of this attempt
 *   webhook-signature: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`, one per live
 *                      secret, space-separated (two during a rotation)
 * where `key` is the base64-DECODED part of the secret after `whsec_`. The official libraries
 * (`standardwebhooks`, `svix`, Resend's `webhooks.verify`) verify it as is.
 *
 * Legacy, kept for one release beside it (deprecated):
 *   Sealpost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret string, "<t>.<raw body>")>[,v1=<…>]
 * keyed with the whole secret string, one `v1=` per live secret. Secrets issued before Standard
 * Webhooks (`whsec_` + 43 base64url characters) sign only this header: they were never base64, so
 * no Standard Webhooks library could take them (see standardSecretKey).
 */
export const SIGNATURE_HEADER = 'Sealpost-Signature'
export const EVENT_ID_HEADER = 'Sealpost-Event-Id'
export const EVENT_TYPE_HEADER = 'Sealpost-Event-Type'
export const WEBHOOK_ID_HEADER = 'webhook-id'
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp'
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature'
/** What receivers should allow between our timestamp and their clock (the Standard Webhooks libraries fix it at 300 s). */
export const DEFAULT_TOLERANCE_SEC = 300

const SECRET_PREFIX = 'whsec_'
/** The spec's range for the key behind a secret; Sealpost issues 32 bytes. */
export const SECRET_MIN_BYTES = 24
export const SECRET_MAX_BYTES = 64
const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** A new Standard Webhooks secret: `whsec_` + standard (padded) base64 of 32 random bytes. */
export function newStandardSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

/**
 * The HMAC key of a Standard Webhooks secret, or null when `secret` is not one: it must be
 * `whsec_` + canonical, padded standard base64 of 24–64 bytes. Canonical and padded because
 * that is what every library decodes the same way (`standardwebhooks` throws on `-`/`_`).
 * A legacy secret is always `whsec_` + 43 characters, never a multiple of 4, so it is never
 * mistaken for one, whatever characters it happens to hold.
 */
export function standardSecretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null
  const b64 = secret.slice(SECRET_PREFIX.length)
  if (b64.length % 4 !== 0 || !STANDARD_BASE64.test(b64)) return null
  const key = Buffer.from(b64, 'base64')
  // Round trip: refuses non-zero padding bits, i.e. two spellings of one key.
  if (key.toString('base64') !== b64 || key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) return null
  return key
}

/** One `v1,<base64>` entry: HMAC-SHA256 over `id.timestamp.body` with the decoded key. */
export function standardSignature(key: Buffer, id: string, t: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${t}.`).update(body).digest('base64')}`
}

/**
 * The signature headers of one attempt. `secrets`: the live secrets, current first.
 * Standard Webhooks headers when at least one of them is a Standard Webhooks secret (only
 * those sign `webhook-signature`); the legacy `Sealpost-Signature` from every one of them.
 * `id` must be stable across retries of the event (and carry no CR/LF: it is a header value).
 */
export function signatureHeaders(secrets: readonly string[], id: string, t: number, body: string): Record<string, string> {
  const keys = secrets.map(standardSecretKey).filter((k): k is Buffer => k !== null)
  const headers: Record<string, string> = { [SIGNATURE_HEADER]: signatureHeader(secrets, t, body) }
  if (keys.length) {
    headers[WEBHOOK_ID_HEADER] = id
    headers[WEBHOOK_TIMESTAMP_HEADER] = String(t)
    headers[WEBHOOK_SIGNATURE_HEADER] = keys.map((k) => standardSignature(k, id, t, body)).join(' ')
  }
  return headers
}

// Legacy Sealpost-Signature (deprecated: verify webhook-signature with a Standard Webhooks library instead).

const mac = (secret: string, t: number, body: string | Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')

/** The legacy header value for `body` sent at `t`, one `v1=` per secret (current first). */
export function signatureHeader(secrets: readonly string[], t: number, body: string): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${mac(s, t, body)}`)].join(',')
}

/**
 * For receivers of the legacy header: true when `header` carries a valid `v1` signature of
 * the raw `body` under `secret` and its timestamp is within `toleranceSec` of now. Compare
 * the raw bytes you received, before any JSON parsing. Fixed answer (false) for every failure.
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
