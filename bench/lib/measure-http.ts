import type { NodeProcess } from './processes.ts'
import { runLoad } from './processes.ts'
import type { HttpFigures } from './results.ts'
import type { LoadResult, LoadSpec } from './load-types.ts'

/** A started server and the one request the benchmark sends it. */
export interface HttpTarget {
  id: string
  server: NodeProcess
  url: string
  headers: Record<string, string>
  body: string
}

export interface HttpRunOptions {
  connections: number
  durationS: number
  warmupS: number
  /** Full-speed rounds per target, interleaved across targets. */
  rounds: number
  /** Half-rate runs per target, each one autocannon `overallRate` run and one paced run; the lowest p99 of each kind is kept. */
  halfRounds: number
  log?: (line: string) => void
  /** Called with each target's load window (CLOCK_MONOTONIC µs, the clock of V8's CPU profiles). */
  onWindow?: (id: string, fromUs: number, toUs: number) => void
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n)

/**
 * Measures several servers side by side. The machine may be shared with other
 * work, so runs are interleaved (ceiling, send API, ceiling, ...) and each
 * target keeps its best round: what the code can do, not what a neighbour's
 * burst left of the CPU. Every round's figure stays in the JSON.
 *
 * Any non-2xx reply fails the target: a benchmark of 429s or 400s measures the
 * wrong thing.
 */
export async function measureHttp(targets: HttpTarget[], o: HttpRunOptions): Promise<Map<string, HttpFigures | Error>> {
  const out = new Map<string, HttpFigures | Error>()
  const specOf = (t: HttpTarget): Omit<LoadSpec, 'durationS'> => ({ url: t.url, method: 'POST', headers: t.headers, body: t.body, connections: o.connections })
  const live = new Set(targets.map((t) => t.id))
  const fail = (t: HttpTarget, e: unknown) => { out.set(t.id, e as Error); live.delete(t.id) }
  const fullRuns = new Map<string, { r: LoadResult; cpuMs: number }[]>()
  const halfRuns = new Map<string, LoadResult[]>()
  const pacedRuns = new Map<string, LoadResult[]>()

  for (const t of targets) {
    try { if (o.warmupS > 0) requireAllOk('warm-up', await runLoad({ ...specOf(t), durationS: o.warmupS })) } catch (e) { fail(t, e) }
  }
  for (let round = 0; round < o.rounds; round++) {
    for (const t of targets.filter((x) => live.has(x.id))) {
      try {
        const cpuBefore = t.server.cpuSeconds()
        const from = nowUs()
        const r = requireAllOk('full-speed run', await runLoad({ ...specOf(t), durationS: o.durationS }))
        o.onWindow?.(t.id, from, nowUs())
        const cpuMs = (t.server.cpuSeconds() - cpuBefore) * 1000
        fullRuns.set(t.id, [...(fullRuns.get(t.id) ?? []), { r, cpuMs }])
        o.log?.(`  ${t.id} round ${round + 1}: ${r.rps.toFixed(0)} req/s, p99 ${r.latencyMs.p99.toFixed(2)} ms`)
      } catch (e) { fail(t, e) }
    }
  }
  const best = (id: string) => [...(fullRuns.get(id) ?? [])].sort((a, b) => b.r.rps - a.r.rps)[0]
  for (let round = 0; round < o.halfRounds; round++) {
    for (const t of targets.filter((x) => live.has(x.id))) {
      try {
        const rate = Math.max(1, Math.round(best(t.id).r.rps / 2))
        const r = requireAllOk('half-rate run', await runLoad({ ...specOf(t), durationS: o.durationS, overallRate: rate }))
        halfRuns.set(t.id, [...(halfRuns.get(t.id) ?? []), r])
        const p = requireAllOk('paced half-rate run', await runLoad({ ...specOf(t), durationS: o.durationS, overallRate: rate, paced: true }))
        pacedRuns.set(t.id, [...(pacedRuns.get(t.id) ?? []), p])
        o.log?.(`  ${t.id} at ${rate} req/s: p99 ${r.latencyMs.p99.toFixed(2)} ms (autocannon overallRate), ${p.latencyMs.p99.toFixed(2)} ms (paced)`)
      } catch (e) { fail(t, e) }
    }
  }
  for (const t of targets.filter((x) => live.has(x.id))) {
    const b = best(t.id)
    const halves = halfRuns.get(t.id) ?? []
    const paced = pacedRuns.get(t.id) ?? []
    const lowestP99 = (runs: LoadResult[]) => [...runs].sort((a, c) => a.latencyMs.p99 - c.latencyMs.p99)[0]
    out.set(t.id, {
      max: b.r,
      half: lowestP99(halves),
      halfPaced: lowestP99(paced),
      peakRssMb: t.server.peakRssMb(),
      cpuMsPerRequest: b.cpuMs / Math.max(1, b.r.ok),
      rounds: (fullRuns.get(t.id) ?? []).map((x) => round2(x.r.rps)),
      halfRoundsP99Ms: halves.map((h) => round2(h.latencyMs.p99)),
      pacedRoundsP99Ms: paced.map((h) => round2(h.latencyMs.p99)),
    })
  }
  return out
}

const round2 = (n: number) => Math.round(n * 100) / 100

function requireAllOk(what: string, r: LoadResult): LoadResult {
  const bad = Object.entries(r.statuses).filter(([s]) => +s < 200 || +s >= 300)
  if (bad.length || r.errors || r.ok === 0) {
    throw new Error(`${what}: ${r.ok} ok, non-2xx ${JSON.stringify(Object.fromEntries(bad))}, ${r.errors} connection errors, ${r.timeouts} timeouts`)
  }
  return r
}
