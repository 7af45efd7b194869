import { createTestClock, type TestClock } from '../../src/core/clock.ts'
import type { OutboundMessage } from '../../src/delivery/contract.ts'
import { createSmtpTransport, type DeliveryTransport } from '../../src/delivery/smtp-transport.ts'
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerConfig } from '../../src/delivery/worker.ts'
import type { MessageSigner } from '../../src/delivery/signer.ts'
import { SqlQueue } from '../../src/queue/sql-queue.ts'
import type { Db } from '../../src/storage/db.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import { testCerts } from '../helpers/certs.ts'
import type { SmtpSink } from '../helpers/smtp-sink.ts'
import { openQueueDb, type QueueDb } from '../queue/queue-db.ts'
import { createTestSource } from './memory-source.ts'
import { domainOf } from '../../src/queue/domains.ts'
import { allRecipients } from '../../src/delivery/recipients.ts'

export const BASE_MS = 60_000
export const LEASE_MS = 120_000

const silent = { info() {}, warn() {}, error() {}, debug() {} }

export interface HarnessOptions {
  dialect: DialectName
  sink: SmtpSink
  /** Deliver through the sink as a relay (SMTP_URL) instead of as every domain's MX. */
  relay?: boolean
  relayUrl?: string
  maxAttempts?: number
  worker?: Partial<DeliveryWorkerConfig>
  signer?: MessageSigner
  /** Jitter: 1 = the top of each back-off window, so tests know exactly when a retry is due. */
  random?: () => number
  /** CA the sink's certificate chains to (default: this process's test CA). */
  extraCaPem?: string
}

export interface DeliveryHarness {
  qdb: QueueDb
  db: Db
  clock: TestClock
  queue: SqlQueue
  source: Awaited<ReturnType<typeof createTestSource>>
  transport: DeliveryTransport
  worker: DeliveryWorker
  /** Stores the message in the test source and enqueues it, like the send API does. */
  accept(msg: OutboundMessage): Promise<void>
  /** Another worker process: its own connection, queue, transport and worker. */
  anotherWorker(): Promise<DeliveryWorker>
  jobs(messageId: string): Promise<{ domain: string; state: string; attempts: number; last_error: string | null; run_at: number }[]>
  close(): Promise<void>
}

export async function deliveryHarness(opts: HarnessOptions): Promise<DeliveryHarness> {
  const certs = await testCerts()
  const qdb = await openQueueDb(opts.dialect)
  const clock = createTestClock('2030-06-01T12:00:00Z')
  const source = await createTestSource(qdb.db)
  const closers: (() => Promise<void>)[] = []

  function build(db: Db) {
    const queue = new SqlQueue(db, {
      clock, perDomain: !opts.relay, leaseMs: LEASE_MS, maxAttempts: opts.maxAttempts ?? 3,
      backoff: { baseMs: BASE_MS, maxMs: 16 * BASE_MS }, random: opts.random ?? (() => 1),
    })
    const transport = createSmtpTransport({
      relayUrl: opts.relay ? (opts.relayUrl ?? opts.sink.url) : undefined,
      mxPort: opts.sink.port, extraCaPem: opts.extraCaPem ?? certs.caPem, clock, maxConnectionsPerHost: 3, timeoutMs: 10_000,
      // Every recipient domain's MX is the loopback sink (no real DNS; loopback needs the hatch).
      resolver: { resolveMx: async () => [{ exchange: 'localhost', priority: 10 }] },
      resolveHost: async () => ['127.0.0.1'], allowPrivate: true,
    })
    const worker = createDeliveryWorker({
      db, queue, source, transport, clock, logger: silent, signer: opts.signer,
      config: { concurrency: 8, pollMs: 20, leaseMs: LEASE_MS, backoffBaseMs: BASE_MS, ...opts.worker },
    })
    closers.push(async () => { await worker.stop(); await transport.close() })
    return { queue, transport, worker }
  }
  const main = build(qdb.db)

  return {
    qdb, db: qdb.db, clock, source, ...main,
    async accept(msg) {
      source.add(msg)
      await qdb.db.transaction().execute((trx) => main.queue.enqueue(trx, [{
        orgId: msg.orgId, messageId: msg.id, runAt: clock.now().getTime(),
        recipientDomains: allRecipients(msg).map(domainOf),
      }]))
    },
    async anotherWorker() {
      return build(await qdb.openAnother()).worker
    },
    async jobs(messageId) {
      const rows = await qdb.db.selectFrom('delivery_jobs').select(['domain', 'state', 'attempts', 'last_error', 'run_at'])
        .where('message_id', '=', messageId).orderBy('domain').execute()
      return rows.map((r) => ({ ...r, attempts: Number(r.attempts), run_at: Number(r.run_at) }))
    },
    async close() {
      for (const c of closers) await c()
      await qdb.close()
    },
  }
}
