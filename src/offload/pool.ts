/**
 * One worker-thread pool (piscina) for heavy work on untrusted input, so that no
 * request can hold the event loop. Every task has a CPU-time budget, counted from the
 * moment a thread starts it: over budget, piscina terminates that thread (a new one is
 * started for the next task) and the caller gets 422 content_too_complex. Tasks that
 * cannot even be queued (all threads busy and `maxQueue` waiting) get 503 server_busy.
 *
 * CPU time, not wall time: on a loaded machine a task that is merely descheduled must not
 * be refused (at a load of 7 on 2 cores, 2 s of wall time held 0.5 s of CPU). A wall-clock
 * cap of WALL_FACTOR budgets still bounds how long a caller can wait.
 */
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { AppError } from '../core/errors.ts'
import { unwrap } from './outcome.ts'
import type { Job, Started } from './worker.ts'

/** A task is also cut after this many budgets of wall time, however little CPU it used. */
export const WALL_FACTOR = 10

/** A task module exports `tasks`: name → function of one structured-clonable input. */
export type TaskMap = Record<string, (input: any) => unknown>

export interface OffloadOptions {
  /** URL of the module whose `tasks` export the threads run. */
  tasks: URL
  threads: number
  taskBudgetMs: number
  /** Tasks that may wait for a thread; beyond that, server_busy. */
  maxQueue: number
  /** V8 heap cap per thread: a task that allocates past it fails with content_too_complex. */
  maxHeapMb?: number
  /** How long an unused thread is kept (threads start on the first task). */
  idleTimeoutMs?: number
}

export interface OffloadPool<T extends TaskMap> {
  readonly threads: number
  run<N extends keyof T & string>(name: N, input: Parameters<T[N]>[0]): Promise<Awaited<ReturnType<T[N]>>>
  stats(): { threads: number; inFlight: number; completed: number; cut: { cpu: number; wall: number } }
  close(): Promise<void>
}

const WORKER = new URL('./worker.ts', import.meta.url)

export function createOffloadPool<T extends TaskMap>(opts: OffloadOptions): OffloadPool<T> {
  const piscina = new Piscina({
    filename: WORKER.href,
    // Threads start on demand and stay warm for idleTimeout: an app that never validates
    // a message (CLI, most tests) starts none.
    minThreads: 0,
    maxThreads: opts.threads,
    idleTimeout: opts.idleTimeoutMs ?? 60_000,
    // Admission is bounded below (inFlight), which also counts tasks piscina keeps aside.
    maxQueue: Infinity,
    resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 512 },
  })
  const capacity = opts.threads + opts.maxQueue
  const retryAfter = String(Math.max(1, Math.ceil(opts.taskBudgetMs / 1000)))
  let inFlight = 0
  const cutCount = { cpu: 0, wall: 0 }
  let closed = false

  // How often a running task's CPU time is read (worker.cpuUsage() answers while the thread computes).
  const checkEveryMs = Math.max(10, Math.min(100, Math.floor(opts.taskBudgetMs / 10)))

  const tooComplex = (reason: 'time_budget' | 'memory') => new AppError('content_too_complex',
    reason === 'time_budget'
      ? `The content needs more processing time than one message is allowed (${opts.taskBudgetMs} ms of CPU); simplify or split it.`
      : 'The content needs more memory than one message is allowed; simplify or split it.',
    { details: { reason, ...(reason === 'time_budget' ? { budgetMs: opts.taskBudgetMs } : {}) } })

  async function run(name: string, input: unknown): Promise<any> {
    if (closed) throw new AppError('unavailable', 'The server is shutting down.')
    if (inFlight >= capacity) {
      throw new AppError('server_busy', 'The server is busy; retry shortly.', { headers: { 'retry-after': retryAfter } })
    }
    inFlight++
    const abort = new AbortController()
    const { port1, port2 } = new MessageChannel()
    let meter: NodeJS.Timeout | undefined
    let wallCap: NodeJS.Timeout | undefined
    let cut = false
    let done = false
    const cutNow = (by: 'cpu' | 'wall') => { if (!cut) { cut = true; cutCount[by]++; abort.abort() } }
    port1.once('message', (started: Started) => {
      port1.close()
      if (done) return
      wallCap = setTimeout(cutNow, opts.taskBudgetMs * WALL_FACTOR, 'wall')
      const worker = piscina.threads.find((w) => w.threadId === started.threadId)
      if (!worker) return
      let reading = false
      meter = setInterval(() => {
        if (reading) return
        reading = true
        worker.cpuUsage().then((u) => {
          if ((u.user + u.system - started.cpuMicros) / 1000 > opts.taskBudgetMs) cutNow('cpu')
        }, () => { /* the thread already ended */ }).finally(() => { reading = false })
      }, checkEveryMs)
    })
    try {
      const job: Job = { tasks: opts.tasks.href, name, input, started: port2 }
      const outcome = await piscina.run(job, { transferList: [port2] as any, signal: abort.signal })
      return unwrap(name, outcome)
    } catch (err) {
      if (cut) throw tooComplex('time_budget')
      if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') throw tooComplex('memory')
      throw err
    } finally {
      done = true
      clearInterval(meter)
      clearTimeout(wallCap)
      port1.close()
      inFlight--
    }
  }

  return {
    threads: opts.threads,
    run: run as OffloadPool<T>['run'],
    stats: () => ({ threads: piscina.threads.length, inFlight, completed: piscina.completed, cut: { ...cutCount } }),
    async close() {
      closed = true
      await piscina.destroy()
    },
  }
}
