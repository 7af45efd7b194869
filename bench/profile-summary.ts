#!/usr/bin/env node
/**
 * Reads a V8 .cpuprofile (from `npm run bench -- --profile`) and prints where
 * the CPU went: self time by function, and inclusive time by area (a src/
 * folder or an npm package), each as a share of the non-idle samples.
 * Usage: node bench/profile-summary.ts bench/results/profiles/send-sqlite.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { basename, dirname, join } from 'node:path'

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }
type Windows = [number, number][]

export interface ProfileSummary {
  totalMs: number
  busyMs: number
  self: { name: string; ms: number; share: number }[]
  areas: { name: string; ms: number; share: number }[]
  /** Inclusive time of Sealpost's own functions (src/): where to look first. */
  srcFunctions: { name: string; ms: number; share: number }[]
}

const IDLE = new Set(['(idle)', '(program)'])

/** `src/keys/authenticator.ts`, `fastify`, `node:internal/...` → a short area name. */
export function areaOf(url: string): string {
  if (!url) return '(native)'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const src = url.indexOf('/src/')
  if (src >= 0) return url.slice(src + 1).split('/').slice(0, 2).join('/')
  const bench = url.indexOf('/bench/')
  if (bench >= 0) return 'bench'
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) return url.slice(nm + 14)
  const src = url.indexOf('/src/')
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '')
}

/** `windows`: only samples inside these CLOCK_MONOTONIC µs ranges count (the measured load, not boot). */
export function summarize(profile: CpuProfile, top = 25, windows?: Windows): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfMs = new Map<string, number>()
  const areaMs = new Map<string, number>()
  const srcMs = new Map<string, number>()
  let totalMs = 0
  let busyMs = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (windows && !windows.some(([a, b]) => t >= a && t <= b)) continue
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    totalMs += dt
    const node = byId.get(profile.samples[i])
    if (!node || IDLE.has(node.callFrame.functionName)) continue
    busyMs += dt
    const cf = node.callFrame
    const name = cf.url ? `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : cf.functionName
    selfMs.set(name, (selfMs.get(name) ?? 0) + dt)
    // Inclusive by area: every area on this sample's stack, once.
    const seen = new Set<string>()
    const seenSrc = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame
      if (f.functionName === '(root)') break
      seen.add(f.url ? areaOf(f.url) : f.functionName || '(native)')
      if (f.url.includes('/src/') && !f.url.includes('/node_modules/')) seenSrc.add(`${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`)
    }
    for (const a of seen) areaMs.set(a, (areaMs.get(a) ?? 0) + dt)
    for (const a of seenSrc) srcMs.set(a, (srcMs.get(a) ?? 0) + dt)
  }
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: ms / Math.max(1, busyMs) }))
  return { totalMs: Math.round(totalMs), busyMs: Math.round(busyMs), self: rank(selfMs), areas: rank(areaMs), srcFunctions: rank(srcMs) }
}

export function renderSummary(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`
  return [
    `${title}: ${s.busyMs} ms busy of ${s.totalMs} ms sampled`,
    '  self time by function:',
    ...s.self.map((r) => `    ${pct(r.share)}  ${String(r.ms).padStart(6)} ms  ${r.name}`),
    '  inclusive time by area (a sample counts once per area on its stack):',
    ...s.areas.map((r) => `    ${pct(r.share)}  ${String(r.ms).padStart(6)} ms  ${r.name}`),
    '  inclusive time of src/ functions:',
    ...s.srcFunctions.map((r) => `    ${pct(r.share)}  ${String(r.ms).padStart(6)} ms  ${r.name}`),
  ].join('\n')
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
  for (const file of positionals) {
    // The load windows bench/run.ts recorded for this profile, if any: boot is left out.
    let windows: Windows | undefined
    try { windows = JSON.parse(readFileSync(join(dirname(file), 'windows.json'), 'utf8'))[basename(file, '.cpuprofile')] } catch { /* whole profile */ }
    const title = `${file}${windows ? ` (${windows.length} measured load windows)` : ' (whole process life)'}`
    console.log(renderSummary(title, summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(values.top), windows)))
  }
}
