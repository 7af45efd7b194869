/**
 * Starting Sealpost the way a user does: `npm run cli -- init` in a fresh data
 * folder (keys are printed once; we read the live one from that output), then
 * `node src/main.ts --role ...` with environment variables.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { REPO_ROOT, startNode, freePort, waitForHttp, type NodeProcess } from './processes.ts'
import { Unavailable } from './unavailable.ts'
import { startDnsServer } from '../../test/helpers/dns-server.ts'

export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const DOMAIN = 'bench.sealpost.test'
export const FROM = `Acme Billing <billing@${DOMAIN}>`

export type Backend = 'sqlite' | 'postgres'

export interface Installation {
  env: Record<string, string>
  orgId: string
  liveKey: string
  /** Drops what the installation created outside its data folder (the PostgreSQL schema). */
  dispose(): Promise<void>
}

const HIGH = '100000000'

/** Every guard on; rate limits and quotas high enough never to trigger. */
export function benchEnv(dataDir: string): Record<string, string> {
  return {
    SEALPOST_DATA_DIR: dataDir,
    SEALPOST_HOST: '127.0.0.1',
    // Plain HTTP as behind a TLS-terminating proxy: the ceiling is plain HTTP too.
    SEALPOST_HTTP_INSECURE_BEHIND_PROXY: 'true',
    SEALPOST_RATE_LIMIT_PER_KEY: HIGH,
    SEALPOST_RATE_LIMIT_PER_ORG: HIGH,
    SEALPOST_QUOTA_ORG: `${HIGH}/${HIGH}/${HIGH}`,
    SEALPOST_QUOTA_KEY: `${HIGH}/${HIGH}/${HIGH}`,
  }
}

export function requireSources(...files: string[]): void {
  for (const f of files) if (!existsSync(join(REPO_ROOT, f))) throw new Unavailable(`${f} has not landed yet`)
}

/**
 * A fresh installation: data folder, (for postgres) a fresh schema and Redis,
 * every guard on with limits high enough never to trigger, then `init`.
 */
export async function install(dataDir: string, backend: Backend, extraEnv: Record<string, string> = {}): Promise<Installation> {
  requireSources('src/main.ts', 'src/cli/commands/init.ts')
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  let schema: string | null = null
  // BENCH_SEALPOST_ENV="NAME=VALUE ...": what-if settings for every Sealpost process of the run.
  const whatIf = Object.fromEntries((process.env.BENCH_SEALPOST_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  const env: Record<string, string> = { ...benchEnv(dataDir), ...extraEnv, ...whatIf }
  if (backend === 'postgres') {
    schema = `bench_${randomBytes(5).toString('hex')}`
    await pgQuery(`create schema ${schema}`)
    env.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
    env.REDIS_URL = REDIS_URL
  }
  const dispose = async () => { if (schema) await pgQuery(`drop schema if exists ${schema} cascade`) }
  try {
    const init = startNode({ script: 'src/cli/main.ts', args: ['init', '--org', 'Bench', '--domain', DOMAIN], env })
    const code = await new Promise<number | null>((r) => init.child.once('exit', r))
    // Not a terminal: init writes the keys to a 0600 file in the data folder and prints only its path.
    const credentials = /written to (\S+initial-credentials\.txt)/.exec(init.output())?.[1]
    const liveKey = credentials ? /sp_live_[A-Za-z0-9_]+/.exec(readFileSync(credentials, 'utf8'))?.[0] : undefined
    const orgId = /\borg_[0-9a-z]{26}\b/.exec(init.output())?.[0]
    if (code !== 0 || !liveKey || !orgId) throw new Error(`init failed (${code}):\n${init.output().replace(/sp_(live|test)_\w+/g, 'sp_$1_[redacted]')}`)
    const inst = { env, orgId, liveKey, dispose }
    await verifyDomain(inst)
    return inst
  } catch (e) {
    await dispose()
    throw e
  }
}

/**
 * Live mail needs a verified domain: the domain init created is pending. A loopback DNS server
 * (SEALPOST_DNS_SERVERS) publishes its records while a short-lived API process verifies it, as an
 * owner would; the verified state is stored, so the measured processes need no DNS.
 */
async function verifyDomain(inst: Installation): Promise<void> {
  const dns = await startDnsServer()
  const api = await startSealpost({ ...inst, env: { ...inst.env, SEALPOST_DNS_SERVERS: dns.address } }, 'api')
  try {
    const auth = { authorization: `Bearer ${inst.liveKey}` }
    const list = await (await fetch(`${api.baseUrl}/v1/domains`, { headers: auth })).json() as { data: { id: string; name: string; records: { name: string; value: string }[] }[] }
    const domain = list.data.find((d) => d.name === DOMAIN)!
    dns.publish(domain.records)
    const verified = await (await fetch(`${api.baseUrl}/v1/domains/${domain.id}/verify`, { method: 'POST', headers: auth })).json() as { status: string }
    if (verified.status !== 'verified') throw new Error(`could not verify ${DOMAIN}: ${JSON.stringify(verified)}`)
  } finally {
    await api.proc.stop()
    await dns.close()
  }
}

export interface RunningServer { proc: NodeProcess; baseUrl: string }

/**
 * The Node flags `npm start` passes (`"start": "node <flags> src/main.ts"` in package.json),
 * plus BENCH_SERVER_NODE_ARGS for what-if runs (e.g. `--max-semi-space-size=8`).
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: { start?: string } }
  const words = (pkg.scripts?.start ?? '').split(/\s+/)
  const flags = words[0] === 'node' ? words.slice(1, words.findIndex((w) => w.endsWith('main.ts'))) : []
  return [...flags.filter((f) => f.startsWith('--')), ...(process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])]
}

/** `node <npm start's flags> src/main.ts --role <role>`; for roles with an API, waits until /healthz answers. */
export async function startSealpost(inst: Installation, role: 'api' | 'worker' | 'all', nodeArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort()
  const proc = startNode({ script: 'src/main.ts', args: ['--role', role], env: { ...inst.env, SEALPOST_PORT: String(port) }, nodeArgs: [...serverNodeFlags(), ...nodeArgs] })
  const baseUrl = `http://127.0.0.1:${port}`
  try {
    if (role !== 'worker') await waitForHttp(`${baseUrl}/healthz`, proc)
    return { proc, baseUrl }
  } catch (e) {
    await proc.stop()
    throw e
  }
}

async function pgQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
  } catch (e) {
    throw new Unavailable(`PostgreSQL unreachable at ${PG_URL}: ${(e as Error).message}`)
  }
  try { await c.query(text) } finally { await c.end() }
}

/** One request, to fail early with the server's own words instead of a wall of non-2xx. */
export async function probe(url: string, headers: Record<string, string>, body: string): Promise<unknown> {
  const r = await fetch(url, { method: 'POST', headers, body })
  const text = await r.text()
  if (r.status === 404 && /Route .* not found|not_found/i.test(text)) throw new Unavailable(`POST ${new URL(url).pathname} is not registered yet`)
  if (r.status < 200 || r.status >= 300) throw new Error(`probe POST ${new URL(url).pathname}: ${r.status} ${text.slice(0, 500)}`)
  return JSON.parse(text)
}
