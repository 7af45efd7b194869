import type { BaseLogger } from 'pino'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { ClaimedJob, DeliveryJobQueue } from '../queue/job-queue.ts'
import type { MessageSource } from './contract.ts'
import type { DeliveryTransport } from './smtp-transport.ts'
import { inlineSigner, type MessageSigner } from './signer.ts'
import { createDomainThrottle, unthrottled, type DomainThrottle } from './throttle.ts'
import { createJobProcessor } from './process-job.ts'

export interface DeliveryWorkerConfig {
  /** Jobs this worker handles at once. */
  concurrency: number
  /** Idle poll interval. */
  pollMs: number
  /** The queue's lease: each attempt is aborted at half of it, so it ends while the lease holds. */
  leaseMs: number
  /** Floor of a destination pause after 421/451. */
  backoffBaseMs: number
  /** Per MX destination: concurrent messages (direct-to-MX only). */
  domainConcurrency?: number
  /** Per MX destination: messages per minute (direct-to-MX only). */
  domainRatePerMinute?: number
}

export interface DeliveryWorkerDeps {
  db: Db
  queue: DeliveryJobQueue
  source: MessageSource
  transport: DeliveryTransport
  clock: Clock
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error' | 'debug'>
  config: DeliveryWorkerConfig
  /** Defaults to signing on the event loop; pass createThreadSigner(n) for throughput. */
  signer?: MessageSigner
  throttle?: DomainThrottle
}

export interface DeliveryWorker {
  /** Claims and delivers until stop(). */
  start(): void
  /** Stops claiming, then waits for the jobs in flight to finish and record their outcome. */
  stop(): Promise<void>
  /** Handles every job due now, then resolves with how many were claimed (tests, CLI). */
  drain(): Promise<number>
}

export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { queue, config, logger } = deps
  // Receivers' limits apply to direct-to-MX delivery; a relay does its own throttling.
  const throttle = deps.throttle ?? (deps.transport.mode === 'relay' ? unthrottled : createDomainThrottle({
    maxConcurrent: config.domainConcurrency ?? 5, perMinute: config.domainRatePerMinute ?? 600, clock: deps.clock,
  }))
  const processJob = createJobProcessor({ ...deps, signer: deps.signer ?? inlineSigner, throttle })
  const inFlight = new Set<Promise<void>>()
  let running = false
  let loopDone: Promise<void> | null = null
  let wake: (() => void) | null = null

  function track(job: ClaimedJob): void {
    const p = processJob(job)
      .catch((err) => logger.error({ err, jobId: job.id }, 'delivery job crashed; its lease will expire and it will be retried'))
      .finally(() => { inFlight.delete(p); wake?.() })
    inFlight.add(p)
  }

  async function claimBatch(limit: number): Promise<ClaimedJob[]> {
    try {
      return await queue.claim({ limit, excludeDomains: throttle.saturated() })
    } catch (err) {
      logger.error({ err }, 'claiming delivery jobs failed')
      return []
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() { clearTimeout(timer); wake = null; resolve() }
      wake = done
    })
  }

  // Claims go in batches: one query per quarter of the slots, not one per finished job.
  const batch = Math.max(1, Math.floor(config.concurrency / 4))

  async function loop(): Promise<void> {
    while (running) {
      const free = config.concurrency - inFlight.size
      if (free >= batch || (free > 0 && inFlight.size === 0)) {
        const jobs = await claimBatch(free)
        for (const job of jobs) track(job)
        if (jobs.length) continue
      }
      // Woken early by every finished job; otherwise this is the idle poll.
      await sleep(config.pollMs)
    }
  }

  return {
    start() {
      if (running) return
      running = true
      loopDone = loop()
    },
    async stop() {
      running = false
      wake?.()
      await loopDone
      await Promise.all(inFlight)
    },
    async drain() {
      let claimed = 0
      for (;;) {
        const jobs = await claimBatch(config.concurrency)
        if (!jobs.length) break
        claimed += jobs.length
        for (const job of jobs) track(job)
        await Promise.all(inFlight)
      }
      await Promise.all(inFlight)
      return claimed
    },
  }
}
