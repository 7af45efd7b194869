#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --only=ceiling,send,delivery] [-- --profile] [-- --no-save]`
 *
 * Servers, the SMTP sink and the load generator each run in their own process,
 * on loopback. HTTP scenarios are measured side by side (interleaved rounds),
 * then the delivery scenarios. Prints one table and writes the same figures to
 * bench/results/latest.json and bench/results/<date>.json.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from './lib/processes.ts'
import { Unavailable } from './lib/unavailable.ts'
import { judgeTargets } from './lib/targets.ts'
import { renderReport } from './lib/report.ts'
import { updateReadme } from './lib/readme.ts'
import { measureHttp } from './lib/measure-http.ts'
import type { BenchReport, DeliveryFigures, HttpFigures, ScenarioResult } from './lib/results.ts'
import { makeSettings, PROFILE_DIR, WINDOWS_FILE, type BenchSettings, type PreparedHttp } from './scenarios/settings.ts'
import { startCeiling } from './scenarios/ceiling.ts'
import { startSendApi } from './scenarios/send-api.ts'
import { deliveryScenarios } from './scenarios/delivery.ts'
import { serverNodeFlags } from './lib/sealpost.ts'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    messages: { type: 'string' },
  },
})

const started = Date.now()
const log = (line: string) => process.stderr.write(line + '\n')
const tmpDir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'))
const profileDir = args.profile ? PROFILE_DIR(REPO_ROOT) : null
if (profileDir) {
  mkdirSync(profileDir, { recursive: true })
  rmSync(join(profileDir, WINDOWS_FILE), { force: true })
}
const settings = makeSettings({
  durationS: Number(args.duration ?? (args.quick ? 4 : 7)),
  warmupS: args.quick ? 2 : 3,
  connections: Number(args.connections ?? 10),
  rounds: Number(args.rounds ?? (args.quick ? 1 : 3)),
  halfRounds: 1,
  deliveryMessages: Number(args.messages ?? (args.quick ? 500 : 2000)),
  tmpDir, profileDir,
})
const only = args.only ? args.only.split(',') : null
const wanted = (id: string) => !only || only.some((o) => id.startsWith(o))
const wantedGroup = (prefix: string) => !only || only.some((o) => o.startsWith(prefix) || prefix.startsWith(o))

const HTTP_SCENARIOS: { id: string; label: string; start: (s: BenchSettings) => Promise<PreparedHttp> }[] = [
  { id: 'ceiling', label: 'bare Fastify (ceiling)', start: startCeiling },
  { id: 'send-sqlite', label: 'send API, SQLite', start: (s) => startSendApi(s, 'sqlite') },
  { id: 'send-postgres', label: 'send API, PostgreSQL + Redis', start: (s) => startSendApi(s, 'postgres') },
]

function failed<F>(id: string, label: string, e: unknown): ScenarioResult<F> {
  const unavailable = e instanceof Unavailable
  log(`· ${label}: ${unavailable ? 'not available yet' : 'ERROR'}: ${(e as Error).message.split('\n')[0]}`)
  if (!unavailable) log(String((e as Error).stack ?? e))
  return { id, label, status: unavailable ? 'unavailable' : 'error', reason: (e as Error).message }
}

async function httpPhase(s: BenchSettings): Promise<ScenarioResult<HttpFigures>[]> {
  const results = new Map<string, ScenarioResult<HttpFigures>>()
  const prepared: (PreparedHttp & { label: string })[] = []
  try {
    for (const sc of HTTP_SCENARIOS.filter((x) => wanted(x.id))) {
      log(`· starting ${sc.label}`)
      try { prepared.push({ ...(await sc.start(s)), label: sc.label }) } catch (e) { results.set(sc.id, failed(sc.id, sc.label, e)) }
    }
    if (prepared.length) {
      log(`· measuring ${prepared.map((p) => p.target.id).join(', ')}: ${s.rounds} × ${s.durationS} s full speed, ${s.halfRounds} × ${s.durationS} s at half rate`)
      const figures = await measureHttp(prepared.map((p) => p.target), { ...s, log, onWindow: s.recordWindow })
      for (const p of prepared) {
        const f = figures.get(p.target.id)
        results.set(p.target.id, f instanceof Error || !f
          ? { ...failed<HttpFigures>(p.target.id, p.label, f ?? new Error('no figures')), notes: p.notes }
          : { id: p.target.id, label: p.label, status: 'ok', figures: f, notes: p.notes })
      }
    }
  } finally {
    for (const p of prepared) await p.stop()
  }
  return HTTP_SCENARIOS.filter((x) => results.has(x.id)).map((x) => results.get(x.id)!)
}

async function attempt<F>(id: string, label: string, run: () => Promise<ScenarioResult<F>>): Promise<ScenarioResult<F>> {
  log(`· ${label}`)
  try { return await run() } catch (e) { return failed(id, label, e) }
}

async function main(s: BenchSettings): Promise<BenchReport> {
  const before = loadavg()[0]
  const http = await httpPhase(s)
  const delivery: ScenarioResult<DeliveryFigures>[] = wantedGroup('delivery') ? await deliveryScenarios(s, attempt, wanted) : []
  const base = {
    generatedAt: new Date().toISOString(),
    git: gitInfo(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? '?', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.versions.node, platform: `${process.platform}-${process.arch}` },
    loadAverage: { before: round1(before), after: round1(loadavg()[0]) },
    settings: { durationS: s.durationS, warmupS: s.warmupS, connections: s.connections, rounds: s.rounds, halfRounds: s.halfRounds, deliveryMessages: s.deliveryMessages, serverNodeFlags: serverNodeFlags() },
    http, delivery,
    elapsedS: Math.round((Date.now() - started) / 1000),
  }
  return { ...base, targets: judgeTargets(base) }
}

const round1 = (n: number) => Math.round(n * 10) / 10

function gitInfo(): BenchReport['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== ''
    return { commit, dirty }
  } catch {
    return { commit: 'unknown', dirty: true }
  }
}

try {
  const report = await main(settings)
  console.log(renderReport(report))
  if (!args['no-save'] && !args.quick && !only) {
    const dir = join(REPO_ROOT, 'bench/results')
    mkdirSync(dir, { recursive: true })
    const json = JSON.stringify(report, null, 2) + '\n'
    const dated = `${report.generatedAt.slice(0, 10)}.json`
    writeFileSync(join(dir, 'latest.json'), json)
    writeFileSync(join(dir, dated), json)
    const readme = updateReadme(REPO_ROOT, renderReport(report))
    console.log(`\nwritten: bench/results/latest.json, bench/results/${dated}${readme ? ', README.md (Benchmarks)' : ''}`)
  }
} finally {
  rmSync(tmpDir, { recursive: true, force: true })
}
