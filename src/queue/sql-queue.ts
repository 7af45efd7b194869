import { sql } from 'kysely'
import { randomBytes } from 'node:crypto'
import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import { isPostgres } from '../storage/dialects.ts'
import type { EnqueueRequest } from '../delivery/contract.ts'
import { backoffDelay, type BackoffPolicy } from './backoff.ts'
import { normalizeDomain } from './domains.ts'
import { LeaseLostError, type ClaimOptions, type ClaimedJob, type DeliveryJobQueue } from './job-queue.ts'
import { ALL_DOMAINS, type DeliveryJobRow } from './table.ts'

export interface SqlQueueOptions {
  clock: Clock
  /** True when delivering direct to MX: one job per recipient domain. False with a relay. */
  perDomain: boolean
  leaseMs: number
  maxAttempts: number
  backoff: BackoffPolicy
  random?: () => number
  /** Names this process in lease owners (host:pid by default). */
  workerName?: string
}

/**
 * The durable queue in the application database (the embedded default).
 *
 * Claiming is one statement: PostgreSQL picks due rows with FOR UPDATE SKIP LOCKED so
 * concurrent workers never block on or share a row; SQLite runs the same UPDATE ...
 * RETURNING under its single writer lock. A claim sets a fresh lease owner token, and
 * every later write is fenced by it, so a job is only ever handled by the one worker
 * holding an unexpired lease, and is re-claimed only after that lease has expired.
 */
export class SqlQueue implements DeliveryJobQueue {
  readonly #db: Db
  readonly #opts: SqlQueueOptions
  readonly #random: () => number
  readonly #workerName: string

  get maxAttempts(): number {
    return this.#opts.maxAttempts
  }

  constructor(db: Db, opts: SqlQueueOptions) {
    this.#db = db
    this.#opts = opts
    this.#random = opts.random ?? Math.random
    this.#workerName = opts.workerName ?? `${process.pid}`
  }

  #now(): number {
    return this.#opts.clock.now().getTime()
  }

  async enqueue(trx: DbOrTrx, jobs: EnqueueRequest[]): Promise<void> {
    const now = this.#now()
    const rows = jobs.flatMap((job) => {
      const domains = this.#opts.perDomain ? [...new Set(job.recipientDomains.map(normalizeDomain))] : []
      return (domains.length ? domains : [ALL_DOMAINS]).map((domain) => ({
        id: newId('job', now), org_id: job.orgId, message_id: job.messageId, domain,
        state: 'queued' as const, attempts: 0, reclaims: 0, run_at: job.runAt, settled: '[]',
        created_at: now, updated_at: now,
      }))
    })
    if (!rows.length) return
    // Chunked: a 500-message batch stays under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      await trx.insertInto('delivery_jobs').values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['message_id', 'domain']).doNothing())
        .execute()
    }
  }

  async claim({ limit, excludeDomains = [] }: ClaimOptions): Promise<ClaimedJob[]> {
    if (limit <= 0) return []
    const now = this.#now()
    const owner = `${this.#workerName}:${randomBytes(8).toString('hex')}`
    let due = this.#db.selectFrom('delivery_jobs').select('delivery_jobs.id')
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .where((eb) => eb.not(eb.exists(
        eb.selectFrom('delivery_domain_pauses as p').select('p.domain')
          .whereRef('p.domain', '=', 'delivery_jobs.domain')
          .where('p.paused_until', '>', now),
      )))
      .orderBy('run_at').orderBy('id')
      .limit(limit)
    if (excludeDomains.length) due = due.where('domain', 'not in', excludeDomains)
    // PostgreSQL may re-run an `IN (subquery LIMIT n)` per row and lease more than n:
    // a materialized CTE picks (and locks) the rows exactly once.
    const pg = isPostgres(this.#db)
    const base = pg
      ? this.#db.with((w) => w('due').materialized(), () => due.forUpdate().skipLocked())
      : this.#db.with('due', () => due)
    const rows = await base.updateTable('delivery_jobs')
      .set({
        lease_owner: owner,
        lease_until: now + this.#opts.leaseMs,
        attempts: sql`attempts + 1`,
        // A lease still set here expired without its worker reporting back.
        reclaims: sql`case when lease_until is null then reclaims else reclaims + 1 end`,
        updated_at: now,
      })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      // Re-checked on the locked row, so a row changed since the scan is never double-leased.
      .where('state', '=', 'queued')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .execute()
    return rows.map(toClaimedJob).sort((a, b) => a.id.localeCompare(b.id))
  }

  async complete(trx: DbOrTrx, job: ClaimedJob): Promise<void> {
    await this.#finish(trx, job, { state: 'done' })
  }

  async fail(trx: DbOrTrx, job: ClaimedJob, reason: string): Promise<void> {
    await this.#finish(trx, job, { state: 'failed', last_error: reason })
  }

  nextRetryAt(job: ClaimedJob): number | null {
    if (job.attempts >= this.#opts.maxAttempts) return null
    return this.#now() + backoffDelay(job.attempts, this.#opts.backoff, this.#random)
  }

  async reschedule(trx: DbOrTrx, job: ClaimedJob, next: { runAt: number; reason: string; settled: number[] }): Promise<void> {
    await this.#finish(trx, job, { state: 'queued', run_at: next.runAt, last_error: next.reason, settled: JSON.stringify(next.settled) })
  }

  async release(job: ClaimedJob, runAt: number): Promise<void> {
    await this.#finish(this.#db, job, { state: 'queued', run_at: runAt, attempts: sql`attempts - 1` })
  }

  async splitByDomain(trx: DbOrTrx, job: ClaimedJob, domains: string[]): Promise<void> {
    const now = this.#now()
    const unique = [...new Set(domains.map(normalizeDomain))]
    await this.#finish(trx, job, { state: 'done' })
    if (!unique.length) return
    await trx.insertInto('delivery_jobs').values(unique.map((domain) => ({
      id: newId('job', now), org_id: job.orgId, message_id: job.messageId, domain,
      state: 'queued' as const, attempts: 0, reclaims: 0, run_at: now,
      // Indices stay valid: they point into the same message's recipient list.
      settled: JSON.stringify(job.settled), created_at: now, updated_at: now,
    }))).onConflict((oc) => oc.columns(['message_id', 'domain']).doNothing()).execute()
  }

  async pauseDomain(domain: string, until: number, reason: string): Promise<void> {
    await this.#db.insertInto('delivery_domain_pauses')
      .values({ domain, paused_until: until, reason })
      .onConflict((oc) => oc.column('domain').doUpdateSet({ paused_until: until, reason })
        .where('delivery_domain_pauses.paused_until', '<', until))
      .execute()
  }

  /** Housekeeping (app-maintenance.ts): pauses that have ended no longer hold anything back. */
  async pruneExpiredPauses(): Promise<number> {
    const r = await this.#db.deleteFrom('delivery_domain_pauses').where('paused_until', '<=', this.#now()).executeTakeFirst()
    return Number(r.numDeletedRows)
  }

  async stats(): Promise<{ ready: number; leased: number; oldestReadyAgeMs: number | null }> {
    const now = this.#now()
    const row = await this.#db.selectFrom('delivery_jobs')
      .where('state', '=', 'queued')
      .select((eb) => [
        eb.fn.sum<number>(eb.case().when('lease_until', '>', now).then(1).else(0).end()).as('leased'),
        eb.fn.sum<number>(eb.case().when(eb.and([eb('run_at', '<=', now), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)])])).then(1).else(0).end()).as('ready'),
        eb.fn.min<number>(eb.case().when(eb.and([eb('run_at', '<=', now), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)])])).then(eb.ref('run_at')).end()).as('oldest'),
      ])
      .executeTakeFirstOrThrow()
    const oldest = row.oldest === null || row.oldest === undefined ? null : Number(row.oldest)
    return { ready: Number(row.ready ?? 0), leased: Number(row.leased ?? 0), oldestReadyAgeMs: oldest === null ? null : now - oldest }
  }

  /** Ends this worker's hold on the job; refuses if the lease passed to someone else. */
  async #finish(trx: DbOrTrx, job: ClaimedJob, set: Record<string, unknown>): Promise<void> {
    const result = await trx.updateTable('delivery_jobs')
      .set({ ...set, lease_owner: null, lease_until: null, updated_at: this.#now() })
      .where('id', '=', job.id)
      .where('org_id', '=', job.orgId)
      .where('lease_owner', '=', job.leaseOwner)
      .where('state', '=', 'queued')
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) !== 1) throw new LeaseLostError(job.id)
  }
}

function toClaimedJob(row: DeliveryJobRow): ClaimedJob {
  return {
    id: row.id, orgId: row.org_id, messageId: row.message_id, domain: row.domain,
    attempts: Number(row.attempts), reclaims: Number(row.reclaims),
    leaseOwner: row.lease_owner!, leaseUntil: Number(row.lease_until),
    settled: JSON.parse(row.settled) as number[], lastError: row.last_error,
  }
}
