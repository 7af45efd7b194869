/**
 * Child processes for servers, sinks and the load generator, with the two
 * figures the benchmark reads from the kernel: peak RSS (VmHWM) and CPU time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { LoadSpec, LoadResult } from './load-types.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLOCK_TICKS = 100 // USER_HZ on Linux

export interface NodeProcess {
  child: ChildProcess
  pid: number
  /** Everything written to stdout + stderr (kept short), for error messages. */
  output(): string
  /** Resolves with the first IPC message matching the predicate. */
  waitForMessage<T>(match: (m: any) => boolean, timeoutMs?: number): Promise<T>
  peakRssMb(): number
  cpuSeconds(): number
  stop(signal?: NodeJS.Signals): Promise<void>
}

export interface StartOptions {
  script: string
  args?: string[]
  env?: Record<string, string | undefined>
  nodeArgs?: string[]
  ipc?: boolean
}

export function startNode(opts: StartOptions): NodeProcess {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])],
  })
  let out = ''
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-8000) }
  // Always drain the pipes: a full pipe would block a server that logs.
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  let exited = false
  let lastPeak = 0
  let lastCpu = 0
  child.on('exit', () => { exited = true })
  const pid = child.pid!

  return {
    child, pid,
    output: () => out,
    waitForMessage<T>(match: (m: any) => boolean, timeoutMs = 60_000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${opts.script}\n${out}`)), timeoutMs)
        const onMessage = (m: any) => { if (match(m)) { cleanup(); resolve(m as T) } }
        const onExit = (code: number | null) => fail(new Error(`${opts.script} exited with ${code}\n${out}`))
        const cleanup = () => { clearTimeout(timer); child.off('message', onMessage); child.off('exit', onExit) }
        const fail = (e: Error) => { cleanup(); reject(e) }
        child.on('message', onMessage)
        child.on('exit', onExit)
      })
    },
    peakRssMb() {
      if (!exited) {
        const m = /VmHWM:\s+(\d+) kB/.exec(readProc(pid, 'status'))
        if (m) lastPeak = Number(m[1]) / 1024
      }
      return lastPeak
    },
    cpuSeconds() {
      if (!exited) {
        // Fields 14 and 15 of /proc/pid/stat (utime, stime), after the ")" of the command name.
        const stat = readProc(pid, 'stat')
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (f.length > 12) lastCpu = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
      }
      return lastCpu
    },
    async stop(signal = 'SIGTERM') {
      if (exited) return
      const done = new Promise<void>((r) => child.once('exit', () => r()))
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await done
      clearTimeout(timer)
    },
  }
}

function readProc(pid: number, file: string): string {
  try { return readFileSync(`/proc/${pid}/${file}`, 'utf8') } catch { return '' }
}

/** A free loopback port, for servers that take their port from configuration. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** Polls a URL until it answers 2xx (server started) or the deadline passes. */
export async function waitForHttp(url: string, proc: NodeProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`server exited with ${proc.child.exitCode} before answering\n${proc.output()}`)
    try {
      const r = await fetch(url)
      if (r.ok) return
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms\n${proc.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Runs autocannon in its own process and returns its figures. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const proc = startNode({ script: 'bench/lib/load-worker.ts', args: [JSON.stringify(spec)] })
  const code = await new Promise<number | null>((r) => proc.child.once('exit', r))
  const out = proc.output().trim().split('\n').pop() ?? ''
  if (code !== 0) throw new Error(`load generator failed (${code}): ${proc.output()}`)
  return JSON.parse(out) as LoadResult
}
