/**
 * Load shedding on event-loop delay. A sampler reads the p99 delay of the last window
 * (perf_hooks' histogram) and resets it; while that is over the threshold, requests get
 * 503 server_busy with Retry-After before any authentication or body work, so a saturated
 * process stops taking new work instead of making every request slower. Routes declaring
 * `config.shedExempt` (liveness and readiness) keep answering: an orchestrator must not
 * restart a process that is only busy.
 *
 * Why p99 over one second: the loop's normal delay here is a few ms; a single GC pause or a
 * 25 MB JSON body costs ~100-200 ms and must not trip it; a p99 at the threshold means a
 * sustained stall that every client already feels.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../core/errors.ts'

export interface LoadSheddingOptions {
  /** p99 event-loop delay (ms) over one window above which requests are shed; 0 disables. */
  maxEventLoopDelayMs: number
  /** Sampling window (default 1000 ms). */
  windowMs?: number
}

export function installLoadShedding(app: FastifyInstance, opts: LoadSheddingOptions): void {
  if (opts.maxEventLoopDelayMs <= 0) return
  const windowMs = opts.windowMs ?? 1000
  const histogram = monitorEventLoopDelay({ resolution: Math.max(1, Math.min(20, Math.floor(windowMs / 20))) })
  histogram.enable()
  let overloadedMs = 0
  const sample = () => {
    overloadedMs = histogram.count ? histogram.percentile(99) / 1e6 : 0
    histogram.reset()
  }
  const timer = setInterval(sample, windowMs)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer); histogram.disable() })

  const retryAfter = String(Math.max(1, Math.ceil(windowMs / 1000)))
  app.addHook('onRequest', async (req) => {
    if (overloadedMs <= opts.maxEventLoopDelayMs || req.routeOptions.config?.shedExempt) return
    req.log.warn({ eventLoopDelayP99Ms: Math.round(overloadedMs) }, 'load shed')
    throw new AppError('server_busy', 'The server is overloaded; retry shortly.', { headers: { 'retry-after': retryAfter } })
  })
}
