/**
 * An open-loop load at a fixed rate: request i is due at start + i / rate,
 * whatever happened to the ones before, and its latency counts from that due
 * time (a stall delays every request queued behind it, as it would for real
 * clients). autocannon's `overallRate` instead lets each connection send its
 * share back to back at the start of every second, which measures bursts.
 *
 * A minimal keep-alive HTTP/1.1 client over `net` (one request in flight per
 * connection, responses framed by Content-Length), so the generator itself is
 * not the bottleneck at a few thousand requests per second.
 */
import { connect, type Socket } from 'node:net'
import type { LoadResult, LoadSpec } from './load-types.ts'

const MAX_QUEUED = 5000

interface Conn { socket: Socket; busy: boolean; due: number; buf: Buffer }

export async function pacedLoad(spec: LoadSpec & { overallRate: number }): Promise<LoadResult> {
  const url = new URL(spec.url)
  const body = spec.body ? Buffer.from(spec.body) : Buffer.alloc(0)
  const head = [`${spec.method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive',
    ...Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${body.length}`, '', ''].join('\r\n')
  const request = Buffer.concat([Buffer.from(head), body])
  const samples: number[] = []
  const statuses: Record<string, number> = {}
  const queue: number[] = []
  let errors = 0
  let timeouts = 0
  let sent = 0
  let completed = 0
  const total = Math.round(spec.overallRate * spec.durationS)

  const conns: Conn[] = await Promise.all(Array.from({ length: spec.connections }, () => new Promise<Conn>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => resolve(c))
    const c: Conn = { socket, busy: false, due: 0, buf: Buffer.alloc(0) }
    socket.setNoDelay(true)
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => onData(c, chunk))
  })))
  for (const c of conns) c.socket.on('error', () => { errors++ })

  function onData(c: Conn, chunk: Buffer): void {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const headText = c.buf.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0)
      if (c.buf.length < end + 4 + length) return
      const status = Number(headText.slice(9, 12))
      c.buf = c.buf.subarray(end + 4 + length)
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status >= 200 && status < 300) samples.push(performance.now() - c.due)
      completed++
      c.busy = false
      dispatch(c)
    }
  }

  function dispatch(c: Conn): void {
    const due = queue.shift()
    if (due === undefined) return
    c.busy = true
    c.due = due
    c.socket.write(request)
  }

  const start = performance.now()
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now()
      const dueCount = Math.min(total, Math.floor(((now - start) / 1000) * spec.overallRate) + 1)
      for (; sent < dueCount; sent++) {
        // Past this backlog the server is not keeping up at all: count, don't queue forever.
        if (queue.length >= MAX_QUEUED) { timeouts++; completed++; continue }
        queue.push(start + (sent / spec.overallRate) * 1000)
      }
      for (const c of conns) if (!c.busy && queue.length) dispatch(c)
      if (sent >= total && completed >= total) return done()
      if (performance.now() - start > (spec.durationS + 30) * 1000) { timeouts += total - completed; return done() }
      setTimeout(tick, 1)
    }
    tick()
  })
  for (const c of conns) c.socket.destroy()
  const durationS = (performance.now() - start) / 1000
  const sorted = Float64Array.from(samples).sort()
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN)
  return {
    durationS, requests: sent, ok: samples.length, rps: samples.length / spec.durationS, statuses, errors, timeouts,
    latencyMs: { p50: at(50), p95: at(95), p99: at(99), max: sorted.length ? sorted[sorted.length - 1] : NaN },
  }
}
