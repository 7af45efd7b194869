/**
 * Delivery: N messages to a local TLS smtp-server sink with RSA-2048 DKIM,
 * first by raw pooled nodemailer (the baseline), then through Sealpost's whole
 * pipeline. Both sign with the same key: the one Sealpost generated for the
 * sending domain (a fresh RSA-2048 key if the pipeline cannot run yet).
 */
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startNode, type NodeProcess } from '../lib/processes.ts'
import { selfSignedCert, type TlsFiles } from '../lib/tls.ts'
import { DOMAIN, FROM } from '../lib/sealpost.ts'
import type { DeliveryFigures, ScenarioResult } from '../lib/results.ts'
import type { BenchSettings } from './settings.ts'
import { preparePipeline, runPipeline, type PreparedPipeline } from './delivery-pipeline.ts'

type Attempt = <F>(id: string, label: string, run: () => Promise<ScenarioResult<F>>) => Promise<ScenarioResult<F>>

export interface SinkDone { received: number; signed: number; connections: number; firstAt: number; lastAt: number }

export interface Sink {
  port: number
  tls: TlsFiles
  proc: NodeProcess
  /** Arms the sink for n messages; `done` resolves when they have all arrived. */
  expect(n: number, timeoutMs: number): Promise<{ done: Promise<SinkDone> }>
}

export const TO = 'customer@example.test'
const PIPELINE = { id: 'delivery-sqlite', label: 'Sealpost pipeline, SQLite' }
const BASELINE = { id: 'delivery-baseline', label: 'raw nodemailer, pooled (baseline)' }

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
    let pipeline: PreparedPipeline | null = null
    let pipelineFailure: ScenarioResult<DeliveryFigures> | null = null
    if (wanted(PIPELINE.id)) {
      const r = await attempt<DeliveryFigures>(PIPELINE.id, `${PIPELINE.label}: accepting ${s.deliveryMessages} messages`, async () => {
        pipeline = await preparePipeline(s, sink, 'sqlite')
        return { ...PIPELINE, status: 'ok' }
      })
      if (r.status !== 'ok') pipelineFailure = { ...r, ...PIPELINE }
    }
    const out: ScenarioResult<DeliveryFigures>[] = []
    if (wanted(BASELINE.id)) out.push(await attempt(BASELINE.id, BASELINE.label, () => baseline(s, sink, pipeline)))
    if (pipeline) out.push(await attempt(PIPELINE.id, PIPELINE.label, () => runPipeline(s, sink, pipeline!, PIPELINE.id, PIPELINE.label)))
    else if (pipelineFailure) out.push(pipelineFailure)
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

async function baseline(s: BenchSettings, sink: Sink, pipeline: PreparedPipeline | null): Promise<ScenarioResult<DeliveryFigures>> {
  const notes = ['nodemailer pool defaults (5 connections, 100 messages each), STARTTLS with certificate verification, DKIM RSA-2048, every message handed to sendMail at once']
  let dkim = pipeline?.dkim
  if (!dkim) {
    const privateKeyFile = join(s.tmpDir, 'dkim-baseline.pem')
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    dkim = { domainName: DOMAIN, keySelector: 'bench', privateKeyFile }
    notes.push('signed with a fresh RSA-2048 key: the pipeline did not run, so its domain key was not available')
  } else {
    notes.push(`signed with the pipeline's own domain key (${dkim.keySelector}._domainkey.${dkim.domainName})`)
  }
  const n = s.deliveryMessages
  const { done } = await sink.expect(n, 240_000)
  const startedAt = Date.now()
  const sender = startNode({
    script: 'bench/servers/nodemailer-baseline.ts', nodeArgs: s.profileArgs(BASELINE.id),
    args: [JSON.stringify({ port: sink.port, caFile: sink.tls.certFile, count: n, from: FROM, to: TO, dkim })],
  })
  // The sender exits right after its last message: sample CPU and RSS while it lives.
  let last = { rss: 0, cpu: 0 }
  const sampler = setInterval(() => { last = { rss: sender.peakRssMb(), cpu: sender.cpuSeconds() } }, 50)
  const exited = new Promise<number | null>((r) => sender.child.once('exit', r))
  try {
    const arrived = await Promise.race([done, exited.then((code) => { throw new Error(`baseline sender exited (${code}) before the sink had everything: ${sender.output()}`) })])
    const figures = figuresFrom(arrived, n, startedAt, sender)
    const offsetUs = Number(process.hrtime.bigint() / 1000n) - Date.now() * 1000
    s.recordWindow(BASELINE.id, arrived.firstAt * 1000 + offsetUs, arrived.lastAt * 1000 + offsetUs)
    const code = await exited
    if (code !== 0) throw new Error(`baseline sender failed: ${sender.output()}`)
    return {
      ...BASELINE, status: 'ok', notes,
      figures: { ...figures, peakRssMb: Math.max(figures.peakRssMb, last.rss), cpuSeconds: Math.max(figures.cpuSeconds, last.cpu) },
    }
  } finally {
    clearInterval(sampler)
    await sender.stop()
  }
}
