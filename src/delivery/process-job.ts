import type { BaseLogger } from 'pino'
import type { Clock } from '../core/clock.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import { LeaseLostError, type ClaimedJob, type DeliveryJobQueue } from '../queue/job-queue.ts'
import { ALL_DOMAINS } from '../queue/table.ts'
import { domainOf } from '../queue/domains.ts'
import type { DeliveryOutcome, MessageSource, OutboundMessage } from './contract.ts'
import type { RecipientResult, SendReport } from './classify.ts'
import { outcomesOf } from './outcomes.ts'
import { bareAddress, distinctRecipients, envelopeAddresses, pendingRecipients, type JobRecipient } from './recipients.ts'
import type { MessageSigner } from './signer.ts'
import type { DeliveryTransport } from './smtp-transport.ts'
import type { DomainThrottle } from './throttle.ts'

export interface JobProcessorDeps {
  db: Db
  queue: DeliveryJobQueue
  source: MessageSource
  transport: DeliveryTransport
  signer: MessageSigner
  throttle: DomainThrottle
  clock: Clock
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error' | 'debug'>
  config: { leaseMs: number; backoffBaseMs: number }
}

/**
 * One claimed job, start to end:
 * 1. attempts exhausted by expired leases → failed
 * 2. load (decrypt) the message; gone → job dropped
 *    live mail whose sending domain is not verified (any more) → failed, never signed
 * 3. whole-message job while delivering to MX → split per domain
 * 4. test environment → sandboxed, no SMTP at all
 * 5. local throttle → handed back, attempt not counted
 * 6. compose + DKIM sign, send, classify per recipient (one signed copy per recipient when
 *    the message carries per-recipient headers: its own one-click unsubscribe link)
 * 7. one transaction: the outcomes and the job's next state (done / retry / failed)
 */
export function createJobProcessor(deps: JobProcessorDeps) {
  const { queue, source, logger } = deps
  const now = () => deps.clock.now().getTime()

  /** Writes outcomes and the job state together; a lost lease rolls both back. */
  async function settle(job: ClaimedJob, outcomes: DeliveryOutcome[], next: (trx: DbOrTrx) => Promise<void>): Promise<void> {
    const at = now()
    // Crypto first, outside the transaction (see MessageSource.prepareOutcome).
    const writes = await Promise.all(outcomes.map((o) => source.prepareOutcome(job.orgId, job.messageId, o, at)))
    try {
      await deps.db.transaction().execute(async (trx) => {
        for (const write of writes) await write(trx)
        await next(trx)
      })
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err
      logger.warn({ jobId: job.id, messageId: job.messageId }, 'delivery lease expired before the outcome was recorded; the new lease owner records it (raise DELIVERY_LEASE_MS if this repeats)')
    }
  }

  const addressesOf = (rs: JobRecipient[]) => rs.map((r) => r.address)

  async function sendCopy(job: ClaimedJob, msg: OutboundMessage, to: string[], signal: AbortSignal): Promise<SendReport> {
    let raw: Buffer
    try {
      raw = await deps.signer.sign(msg, now())
    } catch (err) {
      // Never sent unsigned: the key may be fixed before the attempts run out.
      const detail = (err as Error).message
      logger.error({ err, jobId: job.id }, 'DKIM signing failed')
      return { results: to.map((address) => ({ address, status: 'deferred', detail })), throttle: null }
    }
    return deps.transport.send({ domain: job.domain, from: bareAddress(msg.from), to, raw, signal })
  }

  async function send(job: ClaimedJob, msg: OutboundMessage, pending: JobRecipient[]): Promise<SendReport> {
    // One deadline for the whole attempt, however many copies it sends.
    const signal = AbortSignal.timeout(Math.max(1000, Math.floor(deps.config.leaseMs / 2)))
    const { perRecipient, ...common } = msg
    if (!perRecipient) return sendCopy(job, common, envelopeAddresses(pending), signal)
    const results: RecipientResult[] = []
    let throttle: string | null = null
    for (const r of distinctRecipients(pending)) {
      if (throttle || signal.aborted) {
        results.push({ address: r.address, status: 'deferred', detail: throttle ? `not attempted: the destination asked us to slow down (${throttle})` : 'not attempted: the attempt ran out of time' })
        continue
      }
      const copy = { ...common, headers: { ...common.headers, ...perRecipient[r.index]?.headers } }
      const report = await sendCopy(job, copy, [r.address], signal)
      results.push(...report.results)
      throttle = report.throttle
    }
    return { results, throttle }
  }

  return async function processJob(job: ClaimedJob): Promise<void> {
    // 1. Each claim counts; only an expired lease can push attempts past the maximum.
    if (job.attempts > queue.maxAttempts) {
      const msg = await source.loadForDelivery(job.orgId, job.messageId)
      const pending = msg ? pendingRecipients(msg, job) : []
      const reason = `gave up after ${queue.maxAttempts} attempts: the last attempt's lease expired before its worker reported a result${job.lastError ? ` (earlier: ${job.lastError})` : ''}`
      const outcomes: DeliveryOutcome[] = pending.length ? [{ kind: 'failed', recipients: addressesOf(pending), reason, bounce: null }] : []
      return settle(job, outcomes, (trx) => queue.fail(trx, job, reason))
    }

    // 2.
    const msg = await source.loadForDelivery(job.orgId, job.messageId)
    if (!msg) {
      logger.warn({ jobId: job.id, messageId: job.messageId }, 'message or its signing key no longer exists; delivery job dropped')
      return settle(job, [], (trx) => queue.complete(trx, job))
    }
    const pending = pendingRecipients(msg, job)
    if (msg.environment === 'live' && !msg.senderVerified && pending.length) {
      const reason = `the sending domain ${msg.dkim.domainName} is not verified: live mail is never signed with an unproven domain`
      logger.warn({ jobId: job.id, messageId: job.messageId, domain: msg.dkim.domainName }, 'sending domain not verified; live message failed unsigned and unsent')
      return settle(job, [{ kind: 'failed', recipients: addressesOf(pending), reason, bounce: null }], (trx) => queue.fail(trx, job, reason))
    }

    // 3.
    if (job.domain === ALL_DOMAINS && deps.transport.mode === 'mx' && msg.environment !== 'test') {
      const domains = pending.map((r) => domainOf(r.address))
      return settle(job, [], (trx) => queue.splitByDomain(trx, job, domains))
    }
    if (!pending.length) return settle(job, [], (trx) => queue.complete(trx, job))

    // 4.
    if (msg.environment === 'test') {
      return settle(job, [{ kind: 'sandboxed', recipients: addressesOf(pending) }], (trx) => queue.complete(trx, job))
    }

    // 5.
    const slot = deps.throttle.tryAcquire(job.domain)
    if (!slot.ok) {
      logger.debug({ jobId: job.id, domain: job.domain }, 'destination throttled locally; job handed back')
      return queue.release(job, slot.retryAt).catch((err) => { if (!(err instanceof LeaseLostError)) throw err })
    }

    // 6.
    let report: SendReport
    try {
      report = await send(job, msg, pending)
    } finally {
      slot.release()
    }

    // 7.
    const retryAt = queue.nextRetryAt(job)
    const result = outcomesOf(report, pending, job.attempts, retryAt)
    if (report.throttle) {
      // Every worker leaves this destination alone for a while, not just this job.
      const until = Math.max(retryAt ?? 0, now() + deps.config.backoffBaseMs)
      await queue.pauseDomain(job.domain, until, report.throttle)
      logger.warn({ domain: job.domain, until: new Date(until).toISOString(), reply: report.throttle }, 'destination asked us to slow down; paused')
    }
    const settled = [...new Set([...job.settled, ...result.settled])]
    return settle(job, result.outcomes, (trx) => {
      if (result.deferred) return queue.reschedule(trx, job, { runAt: retryAt!, reason: result.reason!, settled })
      if (result.gaveUp) return queue.fail(trx, job, `gave up after ${job.attempts} attempts: ${result.reason}`)
      return queue.complete(trx, job)
    })
  }
}
