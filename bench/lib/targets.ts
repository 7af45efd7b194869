/** The targets, judged from one report. A scenario that did not run is N/A, never PASS. */
import type { BenchReport, TargetResult } from './results.ts'

export function judgeTargets(r: Omit<BenchReport, 'targets'>): TargetResult[] {
  const out: TargetResult[] = []
  const ceiling = r.http.find((h) => h.id === 'ceiling')?.figures
  const sends = r.http.filter((h) => h.id.startsWith('send-'))
  for (const s of sends) {
    const f = s.figures
    const ratio = f && ceiling ? f.max.rps / ceiling.max.rps : undefined
    out.push(judge(`${s.label}: req/s vs bare Fastify`, ratio, (v) => `${(v * 100).toFixed(0)}%`, '>= 50%', (v) => v >= 0.5))
    out.push(judge(`${s.label}: p99 at half of max rate (paced)`, f?.halfPaced.latencyMs.p99, (v) => `${v.toFixed(1)} ms`, '< 20 ms', (v) => v < 20))
    out.push(judge(`${s.label}: peak RSS`, f?.peakRssMb, (v) => `${v.toFixed(0)} MB`, '< 200 MB', (v) => v < 200))
  }
  const base = r.delivery.find((d) => d.id === 'delivery-baseline')?.figures
  for (const d of r.delivery.filter((x) => x.id !== 'delivery-baseline')) {
    const f = d.figures
    // Only a complete run counts: every message received, signed, and reported delivered by the API.
    const complete = f ? f.dkimSigned === f.messages && (f.statusDelivered ?? f.messages) === f.messages : false
    const ratio = f && base && complete ? f.msgsPerS / base.msgsPerS : undefined
    out.push(judge(`${d.label}: msgs/s vs raw pooled nodemailer`, ratio, (v) => `${(v * 100).toFixed(0)}%`, '>= 100%', (v) => v >= 1))
    out.push(judge(`${d.label}: peak RSS`, f?.peakRssMb, (v) => `${v.toFixed(0)} MB`, '< 200 MB', (v) => v < 200))
  }
  return out
}

function judge(name: string, v: number | undefined, show: (v: number) => string, target: string, ok: (v: number) => boolean): TargetResult {
  if (v === undefined || Number.isNaN(v)) return { name, value: '-', target, status: 'N/A' }
  return { name, value: show(v), target, status: ok(v) ? 'PASS' : 'MISS' }
}
