import { request as httpRequest, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'

export interface PinnedAddress { address: string; family: 4 | 6 }

/** Response bytes read before the socket is closed: only the status matters, the body is drained politely, not kept. */
export const MAX_RESPONSE_BYTES = 64 * 1024
/** Response header bytes accepted (half of Node's default: a receiver has no reason to send more). */
export const MAX_RESPONSE_HEADER_BYTES = 8 * 1024

/**
 * A `lookup` for http.request that answers only with addresses already checked: the
 * connection is pinned to them, and no second DNS query (that a rebinding server could
 * answer differently) is ever made.
 */
export function pinnedLookup(addresses: readonly PinnedAddress[]): LookupFunction {
  return ((_host: string, options: { all?: boolean; family?: number | string }, cb: (...args: unknown[]) => void) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family) || 0
    const fit = addresses.filter((e) => !family || e.family === family)
    if (!fit.length) return cb(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' }))
    return options.all ? cb(null, fit) : cb(null, fit[0].address, fit[0].family)
  }) as LookupFunction
}

export interface PinnedRequest {
  method: 'POST' | 'GET'
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
}

/**
 * One HTTP exchange to a checked URL, connected to the checked addresses only.
 * Redirects are never followed (node:http does not); resolves with the status as
 * soon as it arrives, then reads at most MAX_RESPONSE_BYTES and closes.
 */
export function pinnedRequest(url: URL, addresses: readonly PinnedAddress[], req: PinnedRequest): Promise<{ status: number }> {
  const body = req.body ?? ''
  const options: RequestOptions = {
    method: req.method, signal: req.signal, agent: false, lookup: pinnedLookup(addresses), maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
    headers: { ...req.headers, ...(req.method === 'POST' ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
  }
  return new Promise((resolve, reject) => {
    const r = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      resolve({ status: res.statusCode ?? 0 })
      let read = 0
      res.on('data', (chunk: Buffer) => { read += chunk.length; if (read > MAX_RESPONSE_BYTES) res.destroy() })
      res.on('error', () => { /* the status is already answered; a cut body changes nothing */ })
    })
    r.on('error', (err) => reject(req.signal.aborted ? req.signal.reason : err))
    r.end(body)
  })
}
