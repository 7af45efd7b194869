import { createHmac } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'
import { lookup } from 'node:dns/promises'
import { request as httpRequest, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
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
  return safeEqual(signWebhook(secret, ts, rawBody), sig)
}

/** Host name → every address it resolves to (injectable so tests can play DNS rebinding). */
export type ResolveHost = (host: string) => Promise<string[]>
export const systemResolveHost: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

function publicAddress(host: string, address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  // Only global unicast: loopback, private, link-local (cloud metadata), CGNAT, 6to4/NAT64 and the rest are refused.
  if (parsed.range() !== 'unicast') throw new Error(`webhook target ${host} resolves to a non-public address (${parsed.range()})`)
  return parsed
}

/**
 * SSRF guard: the webhook host must resolve only to public unicast addresses (unless
 * private targets are allowed). Returns the addresses it checked, so a caller can
 * connect to exactly those (no second lookup an attacker's DNS could answer differently).
 */
export async function assertPublicTarget(url: URL, allowPrivate: boolean, resolve: ResolveHost = systemResolveHost): Promise<string[]> {
  if (allowPrivate) return []
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addrs = ipaddr.isValid(host) ? [host] : await resolve(host)
  if (!addrs.length) throw new Error(`webhook target ${host} does not resolve`)
  for (const a of addrs) publicAddress(host, a)
  return addrs
}

/** A `lookup` for http.request that answers with addresses already checked: the connection is pinned to them. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }))
  return ((_host: string, options: { all?: boolean; family?: number | string }, cb: (...args: unknown[]) => void) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family) || 0
    const fit = entries.filter((e) => !family || e.family === family)
    if (!fit.length) return cb(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' }))
    return options.all ? cb(null, fit) : cb(null, fit[0].address, fit[0].family)
  }) as LookupFunction
}

export interface GuardedPost {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  allowPrivate: boolean
  resolve?: ResolveHost
}

/**
 * One POST through the SSRF guard: resolve once, refuse non-public addresses, connect to
 * the checked addresses only. Redirects are never followed (they could point inside);
 * the answer's body is drained, never kept. Resolves with the status code of any answer.
 */
export async function postGuarded(req: GuardedPost): Promise<{ status: number }> {
  const url = new URL(req.url)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`webhook target must be http(s), not ${url.protocol}`)
  const signal = AbortSignal.timeout(req.timeoutMs)
  const addresses = await assertPublicTarget(url, req.allowPrivate, req.resolve)
  const options: RequestOptions = {
    method: 'POST', signal, agent: false,
    headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
    ...(addresses.length ? { lookup: pinnedLookup(addresses) } : {}),
  }
  return new Promise((resolve, reject) => {
    const r = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }))
      res.resume()
    })
    r.on('error', (err) => reject(signal.aborted ? new Error(`webhook timed out after ${req.timeoutMs} ms`) : err))
    r.end(req.body)
  })
}

export interface WebhookDelivery { url: string; secret: string; body: string; nowSec: number; allowPrivate: boolean; timeoutMs?: number }

/** One signed POST; throws on a non-2xx answer. Redirects are not followed (they could point inside). */
export async function postSignedWebhook(d: WebhookDelivery): Promise<number> {
  const { status } = await postGuarded({
    url: d.url, body: d.body, timeoutMs: d.timeoutMs ?? 5000, allowPrivate: d.allowPrivate,
    headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(d.nowSec), [SIGNATURE_HEADER]: signWebhook(d.secret, d.nowSec, d.body), 'user-agent': 'Sealpost-Alerts/1' },
  })
  if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`)
  return status
}
