import { readFile } from 'node:fs/promises'
import { availableParallelism, hostname } from 'node:os'
import type { BaseLogger } from 'pino'
import type { Config } from '../config/load.ts'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { DeliveryJobQueue } from '../queue/job-queue.ts'
import type { MessageSource } from './contract.ts'
import { systemResolveHost, type ResolveHost } from '../net/resolve.ts'
import { systemMxResolver, type MxResolver } from './mx.ts'
import { createThreadSigner, inlineSigner } from './signer.ts'
import { createSmtpTransport } from './smtp-transport.ts'
import { createDeliveryWorker, type DeliveryWorker } from './worker.ts'

export interface DeliveryRuntime {
  worker: DeliveryWorker
  /** Stops the worker (in-flight sends finish), then closes SMTP pools and signing threads. */
  close(): Promise<void>
}

/** CPUs - 1 (the event loop keeps one), at least 1, at most 4. */
export const defaultSigningThreads = () => Math.max(1, Math.min(4, availableParallelism() - 1))

/**
 * Everything a `--role worker` process needs, built from Config: the transport (relay
 * or MX, SMTP_CA_FILE trusted), the signing threads and the worker. main.ts calls
 * `runtime.worker.start()` and, on shutdown, `runtime.close()`.
 */
export async function createDeliveryRuntime(deps: {
  config: Config
  db: Db
  queue: DeliveryJobQueue
  source: MessageSource
  clock: Clock
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error' | 'debug'>
  /** Tests point MX lookups at a loopback sink. */
  resolver?: MxResolver
  /** MX host name → addresses, checked before any connection (tests play DNS). */
  resolveHost?: ResolveHost
}): Promise<DeliveryRuntime> {
  const { config } = deps
  const transport = createSmtpTransport({
    relayUrl: config.smtp.url,
    mxPort: config.smtp.mxPort,
    extraCaPem: config.smtp.caFile ? await readFile(config.smtp.caFile, 'utf8') : undefined,
    heloName: config.smtp.heloName ?? hostname(),
    resolver: deps.resolver ?? systemMxResolver,
    resolveHost: deps.resolveHost ?? systemResolveHost,
    allowPrivate: config.delivery.allowPrivate,
    clock: deps.clock,
    maxConnectionsPerHost: config.delivery.domainConcurrency,
  })
  const threads = config.delivery.signingThreads ?? defaultSigningThreads()
  const signer = threads > 0 ? createThreadSigner(threads) : inlineSigner
  const worker = createDeliveryWorker({
    db: deps.db, queue: deps.queue, source: deps.source, transport, clock: deps.clock, logger: deps.logger, signer,
    config: {
      concurrency: config.delivery.concurrency, pollMs: config.delivery.pollMs, leaseMs: config.delivery.leaseMs,
      backoffBaseMs: config.delivery.backoffBaseMs,
      domainConcurrency: config.delivery.domainConcurrency, domainRatePerMinute: config.delivery.domainRatePerMinute,
    },
  })
  return {
    worker,
    async close() {
      await worker.stop()
      await transport.close()
      await signer.close()
    },
  }
}
