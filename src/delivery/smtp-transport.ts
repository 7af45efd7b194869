import { isIP } from 'node:net'
import nodemailer from 'nodemailer'
import type { Clock } from '../core/clock.ts'
import { classifyAccepted, classifyFailure, type SendReport } from './classify.ts'
import type { ResolveHost } from '../net/resolve.ts'
import { createMxLookup, pinMxHosts, type MxResolver } from './mx.ts'
import { tlsOptions } from './tls-policy.ts'

export interface SmtpTransportOptions {
  /** SMTP_URL: smtp:// (STARTTLS required) or smtps:// (implicit TLS). Unset: direct to MX. */
  relayUrl?: string
  /** SMTP_MX_PORT. */
  mxPort: number
  /** PEM of SMTP_CA_FILE, trusted besides the system roots. */
  extraCaPem?: string
  heloName?: string
  resolver: MxResolver
  /** MX host name → addresses (A and AAAA); each one is checked by the net/ classifier before use. */
  resolveHost: ResolveHost
  /**
   * SEALPOST_DELIVERY_ALLOW_PRIVATE (development and tests): MX hosts on loopback and private
   * networks. Link-local (cloud metadata), multicast and reserved ranges stay refused even then.
   */
  allowPrivate: boolean
  clock: Clock
  /** Pooled connections per destination host. */
  maxConnectionsPerHost: number
  /** Per connection, before it is recycled. */
  maxMessagesPerConnection?: number
  /** Connect, greeting and idle-socket limits (ms); each attempt must end well inside its lease. */
  timeoutMs?: number
}

export interface SendRequest {
  /** Recipient domain of the job (throttling and MX), or '*' through a relay. */
  domain: string
  from: string
  to: string[]
  raw: Buffer
  signal?: AbortSignal
}

/** What the worker sends through: a relay, or each recipient domain's MX. */
export interface DeliveryTransport {
  readonly mode: 'relay' | 'mx'
  send(req: SendRequest): Promise<SendReport>
  close(): Promise<void>
}

type Pool = ReturnType<typeof nodemailer.createTransport>

/** Ends a whole destination: other MX hosts will not do better. */
const isConnectionLevel = (report: SendReport) => report.results.every((r) => r.status === 'deferred' && r.code === undefined)

/**
 * nodemailer SMTP pools, one per destination host, reused across messages. The TLS
 * policy (tls-policy.ts) applies to every pool; there is no code path without it.
 */
export function createSmtpTransport(opts: SmtpTransportOptions): DeliveryTransport {
  const pools = new Map<string, Pool>()
  const tls = tlsOptions(opts.extraCaPem)
  const timeout = opts.timeoutMs ?? 30_000
  const relay = opts.relayUrl ? new URL(opts.relayUrl) : null
  const lookupMx = createMxLookup(opts.resolver, opts.clock)

  const lastUsed = new Map<string, number>()
  const IDLE_POOL_MS = 5 * 60_000

  /** Closes pools of destinations not used for a while, so one-off domains do not pile up. */
  function evictIdle(now: number): void {
    for (const [key, at] of lastUsed) {
      if (now - at < IDLE_POOL_MS) continue
      pools.get(key)?.close()
      pools.delete(key)
      lastUsed.delete(key)
    }
  }

  /** `address`: the checked address to connect to (direct to MX); `host` stays the TLS name. */
  function pool(host: string, port: number, implicitTls: boolean, auth?: { user: string; pass: string }, address?: string): Pool {
    const key = `${host}@${address ?? ''}:${port}`
    const now = opts.clock.now().getTime()
    evictIdle(now)
    lastUsed.set(key, now)
    let p = pools.get(key)
    if (!p) {
      p = nodemailer.createTransport({
        pool: true, host: address ?? host, port,
        secure: implicitTls,
        requireTLS: !implicitTls,
        // The certificate is verified against the MX name, whatever address the socket went to.
        tls: { ...tls, ...(isIP(host) ? {} : { servername: host }) },
        auth,
        name: opts.heloName,
        maxConnections: opts.maxConnectionsPerHost,
        maxMessages: opts.maxMessagesPerConnection ?? 100,
        connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout * 2,
        logger: false,
      })
      pools.set(key, p)
    }
    return p
  }

  async function sendVia(p: Pool, where: string, req: SendRequest): Promise<SendReport> {
    try {
      const info = await p.sendMail({ envelope: { from: req.from, to: req.to }, raw: req.raw, ...(req.signal ? { signal: req.signal } : {}) } as any)
      return classifyAccepted(info as any, req.to, where)
    } catch (err) {
      return classifyFailure(err as any, req.to, where)
    }
  }

  if (relay) {
    const implicitTls = relay.protocol === 'smtps:'
    const port = Number(relay.port || (implicitTls ? 465 : 587))
    const auth = relay.username ? { user: decodeURIComponent(relay.username), pass: decodeURIComponent(relay.password) } : undefined
    return {
      mode: 'relay',
      send: (req) => sendVia(pool(relay.hostname, port, implicitTls, auth), `${relay.hostname}:${port}`, req),
      close: async () => { for (const p of pools.values()) p.close() },
    }
  }

  return {
    mode: 'mx',
    async send(req) {
      const mx = await lookupMx(req.domain)
      if (mx.kind === 'none') return { results: req.to.map((address) => ({ address, status: 'failed', detail: mx.reason, code: 550 })), throttle: null }
      if (mx.kind === 'error') return { results: req.to.map((address) => ({ address, status: 'deferred', detail: mx.reason })), throttle: null }
      const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout)
      let pinned
      try { pinned = await pinMxHosts(mx.hosts, opts.resolveHost, opts.allowPrivate, signal) } catch {
        return { results: req.to.map((address) => ({ address, status: 'deferred', detail: `address lookup of the MX hosts of ${req.domain} timed out` })), throttle: null }
      }
      // The recipient's domain points its mail at a network we do not connect to: a fault of the
      // destination, final, but no hard bounce (the address itself was never refused, so it is not suppressed).
      if (pinned.kind === 'refused') return { results: req.to.map((address) => ({ address, status: 'failed', detail: pinned.reason, destinationFault: true })), throttle: null }
      if (pinned.kind === 'error') return { results: req.to.map((address) => ({ address, status: 'deferred', detail: pinned.reason })), throttle: null }
      let report: SendReport | null = null
      // Next MX host only when this one could not be reached or secured; a reply is final.
      for (const { host, address } of pinned.targets) {
        report = await sendVia(pool(host, opts.mxPort, false, undefined, address), `${host}:${opts.mxPort}`, req)
        if (!isConnectionLevel(report) || req.signal?.aborted) break
      }
      return report!
    },
    close: async () => { for (const p of pools.values()) p.close() },
  }
}
