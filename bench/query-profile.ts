#!/usr/bin/env node
/**
 * Which SQL statements one `POST /v1/messages` runs, how many, and how long
 * they take: the app is built in-process (src/ functions, same guards and
 * settings as the benchmark) over a Kysely instance that logs every query.
 * With --delivery: the same for the delivery worker, per message delivered to a
 * local TLS sink (SMTP_URL), after --requests messages were accepted in batches.
 * Usage: node bench/query-profile.ts [--requests=300] [--delivery] [--postgres] [--cpu-profile=FILE] [--env NAME=VALUE ...]
 * --cpu-profile writes a V8 profile of the measured requests only (read it with
 * bench/profile-summary.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Kysely, type LogEvent } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../src/config/load.ts'
import { sqliteDialect, postgresDialect } from '../src/storage/dialects.ts'
import { migrateToLatest } from '../src/storage/migrate.ts'
import type { Database } from '../src/storage/schema.ts'
import { buildApp } from '../src/app.ts'
import { bootstrap } from '../src/orgs/bootstrap.ts'
import { messageJson } from './lib/payload.ts'
import { DOMAIN, FROM, PG_URL, REDIS_URL, benchEnv } from './lib/sealpost.ts'
import { startNode, type NodeProcess } from './lib/processes.ts'
import { selfSignedCert } from './lib/tls.ts'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' }, postgres: { type: 'boolean', default: false }, delivery: { type: 'boolean', default: false }, 'cpu-profile': { type: 'string' }, env: { type: 'string', multiple: true } } })
/** --env NAME=VALUE overrides a setting, for what-if measurements (e.g. --env SEALPOST_QUOTA_ORG=0/0/0). */
const overrides = Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const n = Number(values.requests)
const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-qprof-'))
const schema = values.postgres ? `bench_${randomBytes(5).toString('hex')}` : null
const admin = async (q: string) => { const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); try { await c.query(q) } finally { await c.end() } }

const stats = new Map<string, { count: number; ms: number }>()
let recording = false
const log = (e: LogEvent) => {
  if (!recording || e.level !== 'query') return
  const sql = e.query.sql.replace(/\s+/g, ' ').replace(/\(\?(, \?)+\)/g, '(?…)').replace(/\(\$\d+(, \$\d+)+\)/g, '($…)')
  const s = stats.get(sql) ?? { count: 0, ms: 0 }
  s.count++; s.ms += e.queryDurationMillis
  stats.set(sql, s)
}

let sink: NodeProcess | null = null
try {
  if (schema) await admin(`create schema ${schema}`)
  let smtpEnv: Record<string, string> = {}
  if (values.delivery) {
    const tls = selfSignedCert(dataDir)
    sink = startNode({ script: 'bench/servers/smtp-sink.ts', args: [tls.keyFile, tls.certFile], ipc: true })
    const { port } = await sink.waitForMessage<{ port: number }>((m) => m.ready)
    smtpEnv = { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_CA_FILE: tls.certFile }
  }
  const config = loadConfig({ ...benchEnv(dataDir), SEALPOST_LOG_LEVEL: 'silent', ...(schema ? { DATABASE_URL: PG_URL, REDIS_URL } : {}), ...smtpEnv, ...overrides })
  const db = new Kysely<Database>({ dialect: schema ? postgresDialect(PG_URL, { schema }) : sqliteDialect(join(dataDir, 'sealpost.sqlite')), log })
  await migrateToLatest(db, schema ?? undefined)
  // Live mail needs a verified domain: an in-process DNS zone carries the bootstrap domain's records.
  const zone = new Map<string, string[][]>()
  const app = await buildApp({ config, storage: { db, dialect: schema ? 'postgres' : 'sqlite', close: () => db.destroy() }, pepper: randomBytes(32).toString('hex'), dnsResolver: { resolveTxt: async (q) => zone.get(q) ?? [] } })
  const { liveKey, orgId, domain } = await bootstrap(app.bootstrapDeps, { orgName: 'Bench', domain: DOMAIN, ownerEmail: `owner@${DOMAIN}` })
  for (const r of domain.records as { name: string; value: string }[]) zone.set(r.name, [...(zone.get(r.name) ?? []), [r.value]])
  await app.domains.verify({ orgId, actor: { type: 'user', id: 'bench' }, scopes: ['domains:manage'], environment: 'live', credentialId: 'bench' }, domain.id)
  const send = () => app.http.inject({ method: 'POST', url: '/v1/messages', headers: { 'content-type': 'application/json', authorization: `Bearer ${liveKey}` }, payload: messageJson(FROM) })
  let work: () => Promise<void>
  if (sink) {
    // Accept the messages first (not recorded), then time the worker until the sink has them all.
    const body = JSON.parse(messageJson(FROM))
    for (let i = 0; i < n; i += 500) {
      const messages = Array.from({ length: Math.min(500, n - i) }, () => body)
      const r = await app.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: { authorization: `Bearer ${liveKey}` }, payload: { messages } })
      if (r.statusCode !== 202) throw new Error(`${r.statusCode} ${r.body}`)
    }
    sink.child.send({ cmd: 'expect', n })
    await sink.waitForMessage((m) => m.expecting)
    const done = sink.waitForMessage((m) => m.done, 300_000)
    work = async () => {
      const workers = await app.startWorkers()
      await done
      await workers.stop()
    }
  } else {
    for (let i = 0; i < 20; i++) await send() // warm-up
    work = async () => {
      for (let i = 0; i < n; i++) {
        const r = await send()
        if (r.statusCode !== 202) throw new Error(`${r.statusCode} ${r.body}`)
      }
    }
  }
  recording = true
  const session = values['cpu-profile'] ? new Session() : null
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  const t = performance.now()
  const cpu0 = process.cpuUsage()
  await work()
  const wall = performance.now() - t
  const cpu = process.cpuUsage(cpu0)
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(values['cpu-profile']!, JSON.stringify(profile))
    session.disconnect()
  }
  recording = false
  await new Promise((r) => setTimeout(r, 1500)) // let the batched audit writer flush, then count it
  const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms)
  const total = rows.reduce((x, [, s]) => x + s.count, 0)
  const totalMs = rows.reduce((x, [, s]) => x + s.ms, 0)
  const unit = sink ? 'message' : 'request'
  console.log(`${n} ${sink ? 'messages delivered by the worker' : 'sequential requests'} (${schema ? 'PostgreSQL' : 'SQLite'}): ${(wall / n).toFixed(2)} ms each (${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms CPU of this process${sink ? ', signing threads included' : ''}), ${(total / n).toFixed(1)} queries per ${unit}, ${(totalMs / n).toFixed(2)} ms of query time per ${unit}`)
  console.log(`per ${unit.padEnd(7)}  ms/${unit.padEnd(7)}  statement`)
  for (const [sql, s] of rows) console.log(`${(s.count / n).toFixed(2).padStart(11)}  ${(s.ms / n).toFixed(3).padStart(10)}  ${sql.slice(0, 160)}`)
  await app.close()
  await db.destroy()
} finally {
  await sink?.stop()
  if (schema) await admin(`drop schema if exists ${schema} cascade`)
  rmSync(dataDir, { recursive: true, force: true })
}
