/** Turns a BenchReport into the printed table (the README shows the same text). */
import type { BenchReport, DeliveryFigures, HttpFigures, ScenarioResult, TargetResult } from './results.ts'

const num = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))
const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1))
const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : `${(n * 100).toFixed(0)}%`)

function table(header: string[], rows: string[][], leftCols = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: string[]) => cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function httpTable(rows: ScenarioResult<HttpFigures>[], ceilingRps: number | undefined): string {
  return table(
    ['HTTP scenario', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99 @ ½ paced', 'p99 @ ½ autocannon', 'CPU ms/req', 'peak RSS MB', 'vs ceiling'],
    rows.map((r) => {
      const f = r.figures
      if (!f) return [r.label, `${r.status === 'unavailable' ? 'not available yet' : 'ERROR'}: ${oneLine(r.reason)}`]
      return [
        r.label, num(f.max.rps), ms(f.max.latencyMs.p50), ms(f.max.latencyMs.p95), ms(f.max.latencyMs.p99),
        ms(f.halfPaced?.latencyMs.p99), ms(f.half.latencyMs.p99), ms(f.cpuMsPerRequest), num(f.peakRssMb), pct(ceilingRps ? f.max.rps / ceilingRps : undefined),
      ]
    }),
  )
}

export function deliveryTable(rows: ScenarioResult<DeliveryFigures>[], baselineRate: number | undefined): string {
  return table(
    ['Delivery scenario', 'received', 'msgs/s', 'wall s', 'DKIM-signed', 'API: delivered', 'SMTP conns', 'CPU s', 'peak RSS MB', 'vs baseline'],
    rows.map((r) => {
      const f = r.figures
      if (!f) return [r.label, `${r.status === 'unavailable' ? 'not available yet' : 'ERROR'}: ${oneLine(r.reason)}`]
      return [
        r.label, num(f.messages), num(f.msgsPerS), num(f.wallS, 1), num(f.dkimSigned), f.statusDelivered === undefined ? 'n/a' : num(f.statusDelivered), num(f.smtpConnections),
        num(f.cpuSeconds, 1), num(f.peakRssMb), pct(baselineRate ? f.msgsPerS / baselineRate : undefined),
      ]
    }),
  )
}

export function targetsTable(targets: TargetResult[]): string {
  return table(['Target', 'measured', 'goal', 'result'], targets.map((t) => [t.name, t.value, t.target, t.status]), 1)
}

function oneLine(s: string | undefined): string {
  const first = (s ?? '').split('\n')[0]
  return first.length > 110 ? `${first.slice(0, 107)}...` : first
}

export function renderReport(r: BenchReport): string {
  const ceiling = r.http.find((h) => h.id === 'ceiling')?.figures?.max.rps
  const baseline = r.delivery.find((d) => d.id === 'delivery-baseline')?.figures?.msgsPerS
  return [
    `Sealpost benchmark, ${r.generatedAt} (commit ${r.git.commit.slice(0, 10)}${r.git.dirty ? ', uncommitted changes' : ''})`,
    `${r.machine.cpus} × ${r.machine.cpuModel}, ${num(r.machine.memoryMb)} MB RAM, Node ${r.machine.node}; ` +
      `load average ${r.loadAverage.before} before, ${r.loadAverage.after} after`,
    `HTTP: ${r.settings.connections} connections, best of ${r.settings.rounds} interleaved ${r.settings.durationS} s rounds after ${r.settings.warmupS} s warm-up; ` +
      `p99 @ ½ rate: best of ${r.settings.halfRounds}, evenly paced and with autocannon overallRate (bursty); delivery: ${r.settings.deliveryMessages} messages; run took ${r.elapsedS} s`,
    `Sealpost started as \`node ${[...r.settings.serverNodeFlags, 'src/main.ts'].join(' ')}\` (the flags of \`npm start\`)`,
    '',
    httpTable(r.http, ceiling),
    '',
    deliveryTable(r.delivery, baseline),
    '',
    targetsTable(r.targets),
    '',
    ...[...r.http, ...r.delivery].flatMap((s) => (s.notes ?? []).map((n) => `note (${s.label}): ${n}`)),
  ].join('\n').trimEnd()
}
