/**
 * Sealpost's delivery pipeline end to end: N messages accepted through the
 * batch API (`--role api`), then a `--role worker` process claims, decrypts,
 * DKIM-signs (RSA-2048, the domain's own key), sends over STARTTLS to the sink
 * and records each outcome. Timed at the sink, like the baseline.
 */
import { join } from 'node:path'
import { startNode } from '../lib/processes.ts'
import { messageBody } from '../lib/payload.ts'
import { install, startSealpost, requireSources, DOMAIN, FROM, type Backend, type Installation } from '../lib/sealpost.ts'
import type { DeliveryFigures, ScenarioResult } from '../lib/results.ts'
import type { BenchSettings } from './settings.ts'
import { figuresFrom, TO, type Sink } from './delivery.ts'

export interface PreparedPipeline {
  backend: Backend
  inst: Installation
  messages: number
  /** The domain's DKIM key, for the baseline to sign with. */
  dkim: { domainName: string; keySelector: string; privateKeyFile: string }
}

export async function preparePipeline(s: BenchSettings, sink: Sink, backend: Backend): Promise<PreparedPipeline> {
  requireSources('src/delivery/worker.ts', 'src/messages/routes.ts')
  const inst = await install(join(s.tmpDir, `delivery-${backend}`), backend, {
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    SMTP_CA_FILE: sink.tls.certFile,
    SMTP_HELO_NAME: 'bench.sealpost.test',
  })
  try {
    const api = await startSealpost(inst, 'api')
    try {
      const n = s.deliveryMessages
      const base = messageBody(FROM, TO)
      for (let i = 0; i < n; i += 500) {
        const messages = Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ ...base, subject: `${base.subject} #${i + j}` }))
        const r = await fetch(`${api.baseUrl}/v1/messages/batch`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${inst.liveKey}` }, body: JSON.stringify({ messages }),
        })
        if (r.status !== 202) throw new Error(`enqueue batch: ${r.status} ${(await r.text()).slice(0, 400)}`)
      }
    } finally {
      await api.proc.stop()
    }
    const keyFile = join(s.tmpDir, `dkim-${backend}.pem`)
    const ex = startNode({ script: 'bench/servers/extract-dkim.ts', args: [inst.orgId, DOMAIN, keyFile], env: inst.env })
    const code = await new Promise<number | null>((r) => ex.child.once('exit', r))
    if (code !== 0) throw new Error(`reading the domain's DKIM key failed: ${ex.output()}`)
    const key = JSON.parse(ex.output().trim().split('\n').pop()!) as { domainName: string; keySelector: string; algorithm: string }
    if (key.algorithm !== 'rsa') throw new Error(`expected an RSA DKIM key, got ${key.algorithm}`)
    return { backend, inst, messages: s.deliveryMessages, dkim: { domainName: key.domainName, keySelector: key.keySelector, privateKeyFile: keyFile } }
  } catch (e) {
    await inst.dispose()
    throw e
  }
}

export async function runPipeline(s: BenchSettings, sink: Sink, p: PreparedPipeline, id: string, label: string): Promise<ScenarioResult<DeliveryFigures>> {
  try {
    const { done } = await sink.expect(p.messages, 240_000)
    const startedAt = Date.now()
    const fromUs = monotonicUs()
    const worker = await startSealpost(p.inst, 'worker', s.profileArgs(id))
    const exited = new Promise<never>((_, reject) => worker.proc.child.once('exit', (c) => reject(new Error(`worker exited (${c}): ${worker.proc.output()}`))))
    let figures: DeliveryFigures
    try {
      const arrived = await Promise.race([done, exited])
      // Profile only from the first message received to the last (worker boot left out).
      const offsetUs = monotonicUs() - Date.now() * 1000
      s.recordWindow(id, Math.max(fromUs, arrived.firstAt * 1000 + offsetUs), arrived.lastAt * 1000 + offsetUs)
      figures = figuresFrom(arrived, p.messages, startedAt, worker.proc)
    } finally {
      await worker.proc.stop()
    }
    return {
      id, label, status: 'ok', figures: { ...figures, statusDelivered: await countDelivered(p) },
      notes: [`${p.messages} messages accepted through POST /v1/messages/batch, then one \`src/main.ts --role worker\` process (default DELIVERY_CONCURRENCY) to the sink through SMTP_URL (STARTTLS, SMTP_CA_FILE)`],
    }
  } finally {
    await p.inst.dispose()
  }
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

/** After the worker stopped: how many messages the API reports as delivered. */
async function countDelivered(p: PreparedPipeline): Promise<number> {
  const api = await startSealpost(p.inst, 'api')
  try {
    let n = 0
    let cursor: string | null = null
    do {
      const q = new URLSearchParams({ status: 'delivered', limit: '100', ...(cursor ? { cursor } : {}) })
      const r = await fetch(`${api.baseUrl}/v1/messages?${q}`, { headers: { authorization: `Bearer ${p.inst.liveKey}` } })
      if (!r.ok) throw new Error(`GET /v1/messages: ${r.status} ${(await r.text()).slice(0, 300)}`)
      const page = await r.json() as { data: unknown[]; next_cursor: string | null }
      n += page.data.length
      cursor = page.next_cursor
    } while (cursor)
    return n
  } finally {
    await api.proc.stop()
  }
}
