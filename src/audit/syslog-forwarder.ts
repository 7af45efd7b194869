import tls from 'node:tls'
import { hostname } from 'node:os'
import type { NewAuditEventRow } from './table.ts'
import { formatRfc5424, octetFrame } from './syslog-format.ts'

export interface SyslogForwarderOptions {
  /** `tls://host:port` */
  url: string
  /** Extra trusted CA (PEM); the system roots are trusted as well. */
  ca?: Buffer
  /** Frames kept while the receiver is unreachable; beyond it the oldest are dropped and counted. */
  maxQueue?: number
  onError?: (err: Error) => void
}

export interface SyslogForwarder {
  /** Called with each flushed batch (already chained and stored): never blocks the writer. */
  send(rows: NewAuditEventRow[]): void
  /** Waits (up to `timeoutMs`) for queued events to be written, then closes the connection. */
  close(timeoutMs?: number): Promise<void>
  stats(): { queued: number; sent: number; dropped: number; connected: boolean }
}

/**
 * Streams audit events to a SIEM as RFC 5424 over TLS (RFC 5425): the server
 * certificate is always verified (TLS 1.2+), and frames wait in a bounded queue
 * while the receiver is down, with a reconnect back-off. Plain syslog over TCP has
 * no application acknowledgement, so frames in flight when a connection drops can
 * be lost; the database stays the record, and `GET /v1/audit-events/export` backfills.
 */
export function createSyslogForwarder(opts: SyslogForwarderOptions): SyslogForwarder {
  const target = new URL(opts.url)
  if (target.protocol !== 'tls:') throw new Error('AUDIT_SYSLOG_URL: expected tls://host:port')
  const host = target.hostname.replace(/^\[|\]$/g, '')
  const port = Number(target.port || 6514)
  const maxQueue = opts.maxQueue ?? 50_000
  const meta = { hostname: hostname(), procId: process.pid }
  const queue: Buffer[] = []
  const counters = { sent: 0, dropped: 0 }
  let socket: tls.TLSSocket | null = null
  let ready = false
  let closing = false
  let retryMs = 500
  let retryTimer: NodeJS.Timeout | null = null
  let drainWaiters: (() => void)[] = []

  function connect() {
    if (socket || closing) return
    const s = tls.connect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ca: opts.ca ? [...tls.rootCertificates, opts.ca.toString()] : undefined, minVersion: 'TLSv1.2', rejectUnauthorized: true })
    socket = s
    s.setNoDelay(true)
    s.on('secureConnect', () => { ready = true; retryMs = 500; pump() })
    s.on('drain', pump)
    s.on('error', (err) => opts.onError?.(err))
    s.on('close', () => {
      socket = null
      ready = false
      if (queue.length && !closing) scheduleReconnect()
      else wakeDrainWaiters()
    })
  }

  function scheduleReconnect() {
    if (retryTimer) return
    retryTimer = setTimeout(() => { retryTimer = null; connect() }, retryMs)
    retryTimer.unref()
    retryMs = Math.min(retryMs * 2, 30_000)
  }

  function pump() {
    if (!socket || !ready) return connect()
    while (queue.length) {
      const frame = queue.shift()!
      counters.sent++
      if (!socket.write(frame)) return
    }
    wakeDrainWaiters()
  }

  function wakeDrainWaiters() {
    if (queue.length && socket) return
    const w = drainWaiters
    drainWaiters = []
    for (const f of w) f()
  }

  return {
    send(rows) {
      for (const r of rows) queue.push(octetFrame(formatRfc5424(r, meta)))
      if (queue.length > maxQueue) counters.dropped += queue.splice(0, queue.length - maxQueue).length
      pump()
    },
    async close(timeoutMs = 5000) {
      if (queue.length && (socket || !closing)) {
        await Promise.race([
          new Promise<void>((r) => { drainWaiters.push(r); pump() }),
          new Promise<void>((r) => setTimeout(r, timeoutMs).unref()),
        ])
      }
      closing = true
      if (retryTimer) clearTimeout(retryTimer)
      const s = socket
      if (s) {
        await new Promise<void>((r) => {
          const t = setTimeout(() => { s.destroy(); r() }, 2000).unref()
          s.once('close', () => { clearTimeout(t); r() })
          s.end()
        })
      }
    },
    stats: () => ({ queued: queue.length, ...counters, connected: ready }),
  }
}
