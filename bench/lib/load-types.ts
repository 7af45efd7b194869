export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  connections: number
  durationS: number
  /** Requests per second across all connections; unset = as fast as the server answers. */
  overallRate?: number
  /** With overallRate: our evenly paced open-loop generator instead of autocannon (see paced-load.ts). */
  paced?: boolean
}

export interface LoadResult {
  durationS: number
  requests: number
  ok: number
  /** 2xx responses per second. */
  rps: number
  statuses: Record<string, number>
  errors: number
  timeouts: number
  latencyMs: { p50: number; p95: number; p99: number; max: number }
}
