import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createTestClock } from '../../src/core/clock.ts'
import { newId } from '../../src/core/ids.ts'
import { SqlQueue, type SqlQueueOptions } from '../../src/queue/sql-queue.ts'
import { LeaseLostError } from '../../src/queue/job-queue.ts'
import type { Db } from '../../src/storage/db.ts'
import { testDialects } from '../helpers/dialects.ts'
import { openQueueDb, type QueueDb } from './queue-db.ts'

const LEASE = 60_000
const options = (clock: SqlQueueOptions['clock'], extra: Partial<SqlQueueOptions> = {}): SqlQueueOptions => ({
  clock, perDomain: true, leaseMs: LEASE, maxAttempts: 3, backoff: { baseMs: 1000, maxMs: 60_000 }, ...extra,
})

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: SqlQueue`, { skip: dialect.skip }, () => {
    let q: QueueDb
    before(async () => { q = await openQueueDb(dialect.name) })
    after(async () => { await q.close() })

    async function jobRows(db: Db, messageId: string) {
      return db.selectFrom('delivery_jobs').selectAll().where('message_id', '=', messageId).orderBy('domain').execute()
    }

    test('enqueues one job per recipient domain, atomically with the caller transaction', async () => {
      const clock = createTestClock()
      const queue = new SqlQueue(q.db, options(clock))
      const orgId = newId('org')
      const kept = newId('msg')
      const rolledBack = newId('msg')
      await q.db.transaction().execute(async (trx) => {
        await queue.enqueue(trx, [{ orgId, messageId: kept, runAt: clock.now().getTime(), recipientDomains: ['Example.org', 'example.org', 'bücher.example'] }])
      })
      await assert.rejects(q.db.transaction().execute(async (trx) => {
        await queue.enqueue(trx, [{ orgId, messageId: rolledBack, runAt: clock.now().getTime(), recipientDomains: ['example.net'] }])
        throw new Error('the send failed after enqueue')
      }), /send failed/)
      assert.deepEqual((await jobRows(q.db, kept)).map((r) => r.domain), ['example.org', 'xn--bcher-kva.example'])
      assert.equal((await jobRows(q.db, rolledBack)).length, 0)
      // Enqueueing the same message again (a retried request) adds nothing.
      await queue.enqueue(q.db, [{ orgId, messageId: kept, runAt: clock.now().getTime(), recipientDomains: ['example.org'] }])
      assert.equal((await jobRows(q.db, kept)).length, 2)
    })

    test('enqueues one job per message when a relay delivers', async () => {
      const clock = createTestClock()
      const queue = new SqlQueue(q.db, options(clock, { perDomain: false }))
      const messageId = newId('msg')
      await queue.enqueue(q.db, [{ orgId: newId('org'), messageId, runAt: 0, recipientDomains: ['a.example', 'b.example'] }])
      assert.deepEqual((await jobRows(q.db, messageId)).map((r) => r.domain), ['*'])
    })

    test('claims only due jobs, and a leased job only after its lease expired', async () => {
      const clock = createTestClock('2030-01-01T00:00:00Z')
      const queue = new SqlQueue(q.db, options(clock, { perDomain: false }))
      const orgId = newId('org')
      const now = clock.now().getTime()
      const due = newId('msg')
      const later = newId('msg')
      await queue.enqueue(q.db, [
        { orgId, messageId: due, runAt: now, recipientDomains: ['x.example'] },
        { orgId, messageId: later, runAt: now + 10_000, recipientDomains: ['x.example'] },
      ])
      const first = (await queue.claim({ limit: 10 })).filter((j) => j.messageId === due || j.messageId === later)
      assert.deepEqual(first.map((j) => j.messageId), [due])
      assert.equal(first[0].attempts, 1)
      assert.equal(first[0].leaseUntil, now + LEASE)

      clock.advance(LEASE - 1)
      const during = await queue.claim({ limit: 10 })
      assert.deepEqual(during.filter((j) => j.messageId === due), [], 'not re-claimed while the lease holds')
      assert.deepEqual(during.filter((j) => j.messageId === later).length, 1)
      await queue.complete(q.db, during.find((j) => j.messageId === later)!)

      clock.advance(1)
      const reclaimed = (await queue.claim({ limit: 10 })).filter((j) => j.messageId === due)
      assert.equal(reclaimed.length, 1)
      assert.equal(reclaimed[0].attempts, 2)
      assert.equal(reclaimed[0].reclaims, 1)
      assert.notEqual(reclaimed[0].leaseOwner, first[0].leaseOwner)

      // The first worker comes back late: its write is refused, the new owner's stands.
      await assert.rejects(queue.complete(q.db, first[0]), LeaseLostError)
      await queue.complete(q.db, reclaimed[0])
      clock.advance(10 * LEASE)
      assert.deepEqual((await queue.claim({ limit: 10 })).filter((j) => j.messageId === due), [])
      assert.equal((await jobRows(q.db, due))[0].state, 'done')
    })

    test('backs off with jitter, then fails after maxAttempts with the reason', async () => {
      const clock = createTestClock('2031-01-01T00:00:00Z')
      let r = 1
      const queue = new SqlQueue(q.db, options(clock, { random: () => r }))
      const messageId = newId('msg')
      await queue.enqueue(q.db, [{ orgId: newId('org'), messageId, runAt: clock.now().getTime(), recipientDomains: ['y.example'] }])
      const delays: number[] = []
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [job] = (await queue.claim({ limit: 50 })).filter((j) => j.messageId === messageId)
        assert.equal(job.attempts, attempt)
        const retryAt = queue.nextRetryAt(job)
        if (attempt === 3) {
          assert.equal(retryAt, null, 'attempts exhausted')
          await queue.fail(q.db, job, 'gave up: 451 try later')
          break
        }
        delays.push(retryAt! - clock.now().getTime())
        await queue.reschedule(q.db, job, { runAt: retryAt!, reason: '451 try later', settled: [0] })
        assert.deepEqual((await queue.claim({ limit: 50 })).filter((j) => j.messageId === messageId), [], 'not due before retryAt')
        clock.set(new Date(retryAt!))
      }
      assert.deepEqual(delays, [1000, 2000], 'the ceiling doubles per attempt')
      const [row] = await jobRows(q.db, messageId)
      assert.equal(row.state, 'failed')
      assert.equal(row.last_error, 'gave up: 451 try later')
      assert.equal(row.settled, '[0]')
      r = 0
      const job = { attempts: 5 } as any
      assert.equal(new SqlQueue(q.db, options(clock, { random: () => 0, maxAttempts: 9 })).nextRetryAt(job)! - clock.now().getTime(), 1000, 'never sooner than the base delay')
    })

    test('release hands a job back without counting the attempt', async () => {
      const clock = createTestClock('2032-01-01T00:00:00Z')
      const queue = new SqlQueue(q.db, options(clock))
      const messageId = newId('msg')
      await queue.enqueue(q.db, [{ orgId: newId('org'), messageId, runAt: clock.now().getTime(), recipientDomains: ['z.example'] }])
      const [job] = (await queue.claim({ limit: 50 })).filter((j) => j.messageId === messageId)
      await queue.release(job, clock.now().getTime() + 500)
      clock.advance(500)
      const [again] = (await queue.claim({ limit: 50 })).filter((j) => j.messageId === messageId)
      assert.equal(again.attempts, 1)
      assert.equal(again.reclaims, 0)
      await queue.complete(q.db, again)
    })

    test('a paused or locally excluded domain is not claimed', async () => {
      const clock = createTestClock('2033-01-01T00:00:00Z')
      const queue = new SqlQueue(q.db, options(clock))
      const messageId = newId('msg')
      await queue.enqueue(q.db, [{ orgId: newId('org'), messageId, runAt: clock.now().getTime(), recipientDomains: ['slow.example', 'busy.example', 'fine.example'] }])
      await queue.pauseDomain('slow.example', clock.now().getTime() + 5000, '421 too many connections')
      await queue.pauseDomain('slow.example', clock.now().getTime() + 1000, 'a shorter pause never shortens a longer one')
      const mine = async () => (await queue.claim({ limit: 50, excludeDomains: ['busy.example'] })).filter((j) => j.messageId === messageId)
      assert.deepEqual((await mine()).map((j) => j.domain), ['fine.example'])
      clock.advance(4999)
      assert.deepEqual(await mine(), [])
      clock.advance(1)
      assert.deepEqual((await mine()).map((j) => j.domain), ['slow.example'])
    })

    test('splits a whole-message job into one job per domain', async () => {
      const clock = createTestClock('2034-01-01T00:00:00Z')
      const queue = new SqlQueue(q.db, options(clock, { perDomain: false }))
      const messageId = newId('msg')
      await queue.enqueue(q.db, [{ orgId: newId('org'), messageId, runAt: clock.now().getTime(), recipientDomains: ['a.example'] }])
      const [job] = (await queue.claim({ limit: 50 })).filter((j) => j.messageId === messageId)
      await q.db.transaction().execute((trx) => queue.splitByDomain(trx, job, ['A.example', 'b.example']))
      const rows = await jobRows(q.db, messageId)
      assert.deepEqual(rows.map((r) => [r.domain, r.state]), [['*', 'done'], ['a.example', 'queued'], ['b.example', 'queued']])
    })

    test('reports ready, leased and the age of the oldest ready job', async () => {
      const clock = createTestClock('2035-01-01T00:00:00Z')
      const fresh = await openQueueDb(dialect.name)
      try {
        const queue = new SqlQueue(fresh.db, options(clock))
        const now = clock.now().getTime()
        await queue.enqueue(fresh.db, [{ orgId: newId('org'), messageId: newId('msg'), runAt: now - 3000, recipientDomains: ['a.example', 'b.example'] }])
        await queue.enqueue(fresh.db, [{ orgId: newId('org'), messageId: newId('msg'), runAt: now + 3000, recipientDomains: ['c.example'] }])
        assert.deepEqual(await queue.stats(), { ready: 2, leased: 0, oldestReadyAgeMs: 3000 })
        await queue.claim({ limit: 1 })
        assert.deepEqual(await queue.stats(), { ready: 1, leased: 1, oldestReadyAgeMs: 3000 })
      } finally { await fresh.close() }
    })

    test('two workers claiming at once never get the same job', async () => {
      const fresh = await openQueueDb(dialect.name)
      try {
        const clock = createTestClock('2036-01-01T00:00:00Z')
        const other = await fresh.openAnother()
        const a = new SqlQueue(fresh.db, options(clock, { perDomain: false, workerName: 'a' }))
        const b = new SqlQueue(other, options(clock, { perDomain: false, workerName: 'b' }))
        const orgId = newId('org')
        const total = 200
        await a.enqueue(fresh.db, Array.from({ length: total }, () => ({ orgId, messageId: newId('msg'), runAt: clock.now().getTime(), recipientDomains: ['x.example'] })))
        const seen = new Map<string, string>()
        const drain = async (queue: SqlQueue, name: string) => {
          for (;;) {
            const jobs = await queue.claim({ limit: 7 })
            if (!jobs.length) return
            for (const job of jobs) {
              assert.ok(!seen.has(job.id), `${job.id} claimed by ${seen.get(job.id)} and ${name}`)
              seen.set(job.id, name)
            }
            await Promise.all(jobs.map((job) => queue.complete(name === 'a' ? fresh.db : other, job)))
          }
        }
        await Promise.all([drain(a, 'a'), drain(b, 'b'), drain(a, 'a'), drain(b, 'b')])
        assert.equal(seen.size, total)
        assert.ok([...seen.values()].includes('a') && [...seen.values()].includes('b'), 'both workers took part')
      } finally { await fresh.close() }
    })
  })
}
