/**
 * The load generator, run in its own process so it never shares an event loop
 * with the server it measures: `node bench/lib/load-worker.ts '<LoadSpec JSON>'`.
 * Prints one LoadResult as JSON on stdout.
 *
 * With `paced`, an evenly paced open-loop run (paced-load.ts) replaces autocannon.
 *
 * Latencies are kept as raw samples (sub-millisecond) rather than autocannon's
 * integer-millisecond histogram: bare Fastify answers in well under 1 ms.
 */
import { createRequire } from 'node:module'
import type { LoadSpec, LoadResult } from './load-types.ts'
import { pacedLoad } from './paced-load.ts'

const require = createRequire(import.meta.url)
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance

interface AutocannonInstance extends Promise<{ duration: number; requests: { total: number }; errors: number; timeouts: number; non2xx: number }> {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, i)]
}

async function main(spec: LoadSpec): Promise<LoadResult> {
  const samples: number[] = []
  const statuses: Record<string, number> = {}
  // With a fixed rate, a slow reply delays the requests queued behind it; count
  // those as late too (coordinated-omission correction, as HdrHistogram does).
  const interval = spec.overallRate ? (1000 * spec.connections) / spec.overallRate : 0
  const started = performance.now()
  const instance = autocannon({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationS,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  })
  instance.on('response', (_c, status, _b, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1
    if (status < 200 || status >= 300) return
    samples.push(ms)
    if (interval > 0) for (let late = ms - interval; late > interval; late -= interval) samples.push(late)
  })
  const r = await instance
  const elapsedS = (performance.now() - started) / 1000
  const sorted = Float64Array.from(samples).sort()
  const ok = Object.entries(statuses).filter(([s]) => +s >= 200 && +s < 300).reduce((n, [, c]) => n + c, 0)
  return {
    durationS: r.duration ?? elapsedS,
    requests: r.requests.total,
    ok,
    rps: ok / (r.duration || elapsedS),
    statuses,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: {
      p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
    },
  }
}

const spec = JSON.parse(process.argv[2]) as LoadSpec
;(spec.paced && spec.overallRate ? pacedLoad({ ...spec, overallRate: spec.overallRate }) : main(spec)).then(
  (result) => { process.stdout.write(JSON.stringify(result) + '\n') },
  (err) => { console.error(err); process.exit(1) },
)
