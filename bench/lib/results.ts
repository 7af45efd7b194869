import type { LoadResult } from './load-types.ts'

export type ScenarioStatus = 'ok' | 'unavailable' | 'error'

export interface HttpFigures {
  /** As fast as the server answers, `connections` concurrent requests. */
  max: LoadResult
  /** autocannon at `overallRate` = half of max.rps. Bursty: each connection sends its share at the start of every second. */
  half: LoadResult
  /** The same rate, evenly paced and open-loop (bench/lib/paced-load.ts): latency under steady load. The target is judged on this one. */
  halfPaced: LoadResult
  /** Peak resident set of the server process over its life (VmHWM). */
  peakRssMb: number
  /** Server CPU time per 2xx request during the best full-speed run. */
  cpuMsPerRequest: number
  /** req/s of every full-speed round (max is the best of them). */
  rounds: number[]
  /** p99 of every half-rate run (half is the lowest of them). */
  halfRoundsP99Ms: number[]
  pacedRoundsP99Ms: number[]
}

export interface DeliveryFigures {
  messages: number
  /** Messages received by the sink that carried a DKIM-Signature header. */
  dkimSigned: number
  /** Steady rate: (n - 1) / (last received - first received). */
  msgsPerS: number
  /** From the sender's start to the last message received. */
  wallS: number
  smtpConnections: number
  peakRssMb: number
  cpuSeconds: number
  /** Pipeline only: messages the API reports as delivered once the worker has stopped. */
  statusDelivered?: number
}

export interface ScenarioResult<F> {
  id: string
  label: string
  status: ScenarioStatus
  /** Why a scenario is unavailable or failed. */
  reason?: string
  figures?: F
  /** Free-form facts about how it ran (backend, settings). */
  notes?: string[]
}

export interface TargetResult {
  name: string
  value: string
  target: string
  status: 'PASS' | 'MISS' | 'N/A'
}

export interface BenchReport {
  generatedAt: string
  git: { commit: string; dirty: boolean }
  machine: { cpus: number; cpuModel: string; memoryMb: number; node: string; platform: string }
  settings: { durationS: number; warmupS: number; connections: number; rounds: number; halfRounds: number; deliveryMessages: number; serverNodeFlags: string[] }
  /** 1-minute load average before and after: a busy machine makes every figure lower. */
  loadAverage: { before: number; after: number }
  http: ScenarioResult<HttpFigures>[]
  delivery: ScenarioResult<DeliveryFigures>[]
  targets: TargetResult[]
  elapsedS: number
}
