/**
 * Piscina's entry in each worker thread. A job names a task module (by URL) and a
 * task in its `tasks` export; the thread tells the pool when the task starts and its CPU
 * time at that moment (the budget counts from there, not from when the task was queued),
 * then returns an Outcome.
 */
import { threadId, type MessagePort } from 'node:worker_threads'
import { constants, setPriority } from 'node:os'
import { failureOf, type Outcome } from './outcome.ts'

// Heavy work yields the CPU to the event loop of its own process (health checks, light requests):
// on Linux a thread's nice value is its own, so this lowers only this worker thread.
try { setPriority(0, constants.priority.PRIORITY_BELOW_NORMAL) } catch { /* not permitted here: run at normal priority */ }

export interface Job { tasks: string; name: string; input: unknown; started: MessagePort }
export interface Started { threadId: number; cpuMicros: number }

type TaskModule = { tasks: Record<string, (input: unknown) => unknown> }
const modules = new Map<string, Promise<TaskModule>>()

export default async function runJob(job: Job): Promise<Outcome> {
  let mod = modules.get(job.tasks)
  if (!mod) { mod = import(job.tasks) as Promise<TaskModule>; modules.set(job.tasks, mod) }
  const task = Object.hasOwn((await mod).tasks, job.name) ? (await mod).tasks[job.name] : undefined
  const cpu = process.threadCpuUsage()
  job.started.postMessage({ threadId, cpuMicros: cpu.user + cpu.system } satisfies Started)
  job.started.close()
  if (!task) return failureOf(new Error(`no task named ${job.name}`))
  try {
    return { ok: true, value: await task(job.input) }
  } catch (err) {
    return failureOf(err)
  }
}
