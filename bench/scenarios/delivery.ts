/**
 * Delivery: N messages to a local TLS smtp-server sink with RSA-2048 DKIM,
 * first by raw pooled nodemailer (the baseline), then through Sealpost's whole
 * pipeline (queued through the API, then claim → decrypt → DKIM → TLS → status).
 */
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startNode, type NodeProcess } from '../lib/processes.ts'
import { selfSignedCert, type TlsFiles } from '../lib/tls.ts'
import type { DeliveryFigures, ScenarioResult } from '../lib/results.ts'
import type { BenchSettings } from './settings.ts'
import { pipelineDelivery } from './delivery-pipeline.ts'

type Attempt = <F>(id: string, label: string, run: () => Promise<ScenarioResult<F>>) => Promise<ScenarioResult<F>>

export interface SinkDone { received: number; signed: number; connections: number; firstAt: number; lastAt: number }

export interface Sink {
  port: number
  tls: TlsFiles
  proc: NodeProcess
  /** Arms the sink for n messages; the promise resolves when they have all arrived. */
  expect(n: number, timeoutMs: number): Promise<{ done: Promise<SinkDone> }>
}

export const DKIM = { domainName: 'bench.sealpost.test', keySelector: 'bench' }
export const FROM = `Acme Billing <billing@${DKIM.domainName}>`
export const TO = 'customer@example.test'

export async function deliveryScenarios(s: BenchSettings, attempt: Attempt, wanted: (id: string) => boolean): Promise<ScenarioResult<DeliveryFigures>[]> {
  const tls = selfSignedCert(s.tmpDir)
  const proc = startNode({ script: 'bench/servers/smtp-sink.ts', args: [tls.keyFile, tls.certFile], ipc: true })
  try {
    const { port } = await proc.waitForMessage<{ port: number }>((m) => m.ready)
    const sink: Sink = {
      port, tls, proc,
      async expect(n, timeoutMs) {
        proc.child.send({ cmd: 'expect', n })
        await proc.waitForMessage((m) => m.expecting)
        // Wrapped so that awaiting expect() does not also await the arrivals.
        return { done: proc.waitForMessage<SinkDone>((m) => m.done, timeoutMs) }
      },
    }
    const out: ScenarioResult<DeliveryFigures>[] = []
    if (wanted('delivery-baseline')) out.push(await attempt('delivery-baseline', 'raw nodemailer, pooled (baseline)', () => baseline(s, sink)))
    if (wanted('delivery-sqlite')) out.push(await attempt('delivery-sqlite', 'Sealpost pipeline, SQLite', () => pipelineDelivery(s, sink, 'sqlite')))
    return out
  } finally {
    await proc.stop()
  }
}

/** (n - 1) / (last - first): the steady rate, without either side's start-up. */
export function figuresFrom(done: SinkDone, n: number, startedAt: number, sender: NodeProcess): DeliveryFigures {
  const spanS = Math.max(0.001, (done.lastAt - done.firstAt) / 1000)
  return {
    messages: done.received, dkimSigned: done.signed,
    msgsPerS: (n - 1) / spanS, wallS: (done.lastAt - startedAt) / 1000,
    smtpConnections: done.connections, peakRssMb: sender.peakRssMb(), cpuSeconds: sender.cpuSeconds(),
  }
}

async function baseline(s: BenchSettings, sink: Sink): Promise<ScenarioResult<DeliveryFigures>> {
  const keyFile = join(s.tmpDir, 'dkim-baseline.pem')
  const dkimKey = process.env.BENCH_DKIM_KEY_FILE ?? keyFile
  if (!process.env.BENCH_DKIM_KEY_FILE) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  }
  const n = s.deliveryMessages
  const { done } = await sink.expect(n, 300_000)
  const startedAt = Date.now()
  const sender = startNode({
    script: 'bench/servers/nodemailer-baseline.ts', nodeArgs: s.profileArgs('nodemailer-baseline'),
    args: [JSON.stringify({ port: sink.port, caFile: sink.tls.certFile, count: n, from: FROM, to: TO, dkim: { ...DKIM, privateKeyFile: dkimKey } })],
  })
  // Sample CPU and RSS just before the sender exits: poll until the sink has everything.
  let last = { rss: 0, cpu: 0 }
  const sampler = setInterval(() => { last = { rss: sender.peakRssMb(), cpu: sender.cpuSeconds() } }, 100)
  const exited = new Promise<number | null>((r) => sender.child.once('exit', r))
  const result = await Promise.race([done, exited.then((code) => { throw new Error(`baseline sender exited (${code}) early: ${sender.output()}`) })])
  const code = await exited
  clearInterval(sampler)
  if (code !== 0) throw new Error(`baseline sender failed: ${sender.output()}`)
  const figures = figuresFrom(result as SinkDone, n, startedAt, sender)
  return {
    id: 'delivery-baseline', label: 'raw nodemailer, pooled (baseline)', status: 'ok',
    figures: { ...figures, peakRssMb: Math.max(figures.peakRssMb, last.rss), cpuSeconds: Math.max(figures.cpuSeconds, last.cpu) },
    notes: ['nodemailer pool defaults (5 connections, 100 messages each), STARTTLS with certificate verification, DKIM RSA-2048, all messages handed to sendMail at once'],
  }
}
