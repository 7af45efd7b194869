import type { DbOrTrx } from '../storage/db.ts'
import type { DeliveryQueue } from '../delivery/contract.ts'

/** A job a worker holds under a lease. */
export interface ClaimedJob {
  id: string
  orgId: string
  messageId: string
  /** ASCII lower-case recipient domain, or '*' for every recipient (relay). */
  domain: string
  /** Including this claim. */
  attempts: number
  /** Times a lease on this job expired before its worker reported back. */
  reclaims: number
  leaseOwner: string
  leaseUntil: number
  /** Indices (to, cc, bcc order) of recipients already delivered or failed. */
  settled: number[]
  lastError: string | null
}

export interface ClaimOptions {
  limit: number
  /** Destinations this worker cannot take more of right now (throttled locally). */
  excludeDomains?: string[]
}

/**
 * The worker's side of the durable queue. Every write that ends an attempt takes the
 * caller's transaction, so the job's state and the message's outcome commit together,
 * and is fenced by the lease owner: a worker whose lease expired and was taken over
 * gets `LeaseLostError` instead of overwriting the new owner's state.
 *
 * @example
 * const [job] = await queue.claim({ limit: 1 })
 * const write = await source.prepareOutcome(job.orgId, job.messageId, outcome, now)   // crypto outside the trx
 * await db.transaction().execute(async (trx) => {
 *   await write(trx)
 *   await queue.complete(trx, job)
 * })
 */
export interface DeliveryJobQueue extends DeliveryQueue {
  /** Claims a job may have before it is failed. */
  readonly maxAttempts: number
  /** Leases up to `limit` due jobs (expired leases included) to this worker. */
  claim(opts: ClaimOptions): Promise<ClaimedJob[]>
  complete(trx: DbOrTrx, job: ClaimedJob): Promise<void>
  /** Attempt failed: back off. Returns null when attempts are exhausted (call fail). */
  nextRetryAt(job: ClaimedJob): number | null
  reschedule(trx: DbOrTrx, job: ClaimedJob, next: { runAt: number; reason: string; settled: number[] }): Promise<void>
  /** Hands a job back without counting the attempt (local throttling, shutdown). */
  release(job: ClaimedJob, runAt: number): Promise<void>
  fail(trx: DbOrTrx, job: ClaimedJob, reason: string): Promise<void>
  /** Replaces a whole-message job by one job per recipient domain (relay → direct MX). */
  splitByDomain(trx: DbOrTrx, job: ClaimedJob, domains: string[]): Promise<void>
  /** Keeps every worker away from a destination that asked us to slow down. */
  pauseDomain(domain: string, until: number, reason: string): Promise<void>
}

export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lease on delivery job ${jobId} was lost: it expired and another worker took the job`)
    this.name = 'LeaseLostError'
  }
}
