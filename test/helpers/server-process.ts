import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import { connect as tlsConnect } from 'node:tls'
import { connect as netConnect } from 'node:net'

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname

export interface ServerProcess {
  url: string
  /** Keys printed once by the first start (absent on a restart). */
  liveKey?: string
  testKey?: string
  output(): string
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: unknown }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; json(): any }>
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Resolves with the exit code (null if killed by a signal) once the process has exited. */
  exited: Promise<number | null>
  /** Writes raw bytes on a new connection (TLS when the server speaks it) and leaves it open: a client that never finishes. */
  openRaw(data: string): Promise<{ destroy(): void }>
}

/**
 * Starts `node src/main.ts` as a user would (own process, real listener on an
 * ephemeral port), and reads the address it prints and the keys of a first start.
 * stdout is a pipe here, not a terminal, so the server writes those keys to a 0600
 * file in the data folder and logs only its path: they are read from that file.
 */
export async function startServer(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    // Shedding off unless a test sets it (see test/helpers/harness.ts): a loaded CI machine must not turn into 503s.
    env: { PATH: process.env.PATH, SEALPOST_PORT: '0', SEALPOST_LOG_LEVEL: 'info', SEALPOST_SHED_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { out += d })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), opts.timeoutMs ?? 30_000)
    const check = () => {
      const m = /listening on (https?:\/\/[^"\s]+)/.exec(out)
      if (m) { clearTimeout(timer); resolve(m[1].replace('0.0.0.0', '127.0.0.1')) }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${out}`)) })
  })
  const certFile = join(env.SEALPOST_DATA_DIR, 'tls', 'cert.pem')
  const credentialsFile = /secrets shown once were written to (\S+?initial-credentials\.txt)/.exec(out)?.[1]
  const credentials = credentialsFile ? readFileSync(credentialsFile, 'utf8') : ''
  const ca = url.startsWith('https') && existsSync(certFile) ? readFileSync(certFile) : undefined

  return {
    url,
    liveKey: /live API key\s+(sp_live_\S+)/.exec(credentials)?.[1],
    testKey: /test API key\s+(sp_test_\S+)/.exec(credentials)?.[1],
    output: () => out,
    request(method, path, o = {}) {
      const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
      const headers: Record<string, string> = { ...(body && typeof o.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...o.headers }
      const send = url.startsWith('https') ? httpsRequest : httpRequest
      return new Promise((resolve, reject) => {
        const req = send(new URL(path, url), { method, headers, ca, servername: 'localhost' } as any, (res) => {
          let data = ''
          res.setEncoding('utf8')
          res.on('data', (c) => { data += c })
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data, json: () => JSON.parse(data) }))
        })
        req.on('error', reject)
        req.end(body)
      })
    },
    exited,
    openRaw(data) {
      const u = new URL(url)
      return new Promise((resolve, reject) => {
        const onConnect = () => { socket.write(data); resolve({ destroy: () => socket.destroy() }) }
        const socket = u.protocol === 'https:'
          ? tlsConnect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, onConnect)
          : netConnect({ host: u.hostname, port: Number(u.port) }, onConnect)
        socket.on('error', reject)
      })
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      await exited
    },
  }
}
