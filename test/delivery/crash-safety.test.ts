import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { LeaseLostError } from '../../src/queue/job-queue.ts'
import { deliveryHarness, LEASE_MS } from './delivery-harness.ts'
import { outboundMessage } from './fixtures.ts'

const messageIdOf = (raw: Buffer) => /^Message-ID:\s*(<[^>]+>)/im.exec(raw.toString())?.[1]

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: nothing lost, nothing delivered twice`, { skip: dialect.skip }, () => {
    test('a job whose worker died is reclaimed after its lease expires and delivered once', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage()
      await h.accept(msg)
      // A worker claims the job and crashes before sending anything.
      const [orphan] = await h.queue.claim({ limit: 1 })
      assert.equal(orphan.messageId, msg.id)

      h.clock.advance(LEASE_MS - 1)
      assert.equal(await h.worker.drain(), 0, 'not touched while the lease holds')
      assert.equal(sink.messages.length, 0)

      h.clock.advance(1)
      assert.equal(await h.worker.drain(), 1)
      assert.equal(sink.messages.length, 1)
      assert.equal(messageIdOf(sink.messages[0].raw), msg.messageIdHeader)
      assert.deepEqual((await h.source.outcomes(msg.id)).map((o) => o.outcome.kind), ['delivered'])
      // The dead worker's late write cannot reopen or overwrite the job.
      await assert.rejects(h.queue.complete(h.db, orphan), LeaseLostError)
      h.clock.advance(10 * LEASE_MS)
      assert.equal(await h.worker.drain(), 0)
      assert.equal(sink.messages.length, 1)
    })

    test('leases that keep expiring end the job as failed after maxAttempts, with a reason', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true, maxAttempts: 2 })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage()
      await h.accept(msg)
      for (let i = 0; i < 2; i++) {
        assert.equal((await h.queue.claim({ limit: 1 })).length, 1)
        h.clock.advance(LEASE_MS)
      }
      await h.worker.drain()
      assert.equal(sink.messages.length, 0)
      const [failed] = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.equal(failed.kind, 'failed')
      assert.match((failed as any).reason, /gave up after 2 attempts: the last attempt's lease expired/)
      assert.equal((await h.jobs(msg.id))[0].state, 'failed')
    })

    test('two workers on one queue deliver every message exactly once', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink, worker: { concurrency: 4 } })
      const other = await h.anotherWorker()
      t.after(async () => { await h.close(); await sink.close() })
      const total = 30
      const msgs = Array.from({ length: total }, (_, i) => outboundMessage({ to: [`user${i}@example.org`], cc: [`cc${i}@example.net`] }))
      for (const m of msgs) await h.accept(m)

      h.worker.start()
      other.start()
      await sink.waitForMessages(2 * total)
      await Promise.all([h.worker.stop(), other.stop()])

      const seen = new Map<string, number>()
      for (const m of sink.messages) {
        const key = `${messageIdOf(m.raw)} ${m.envelope.rcptTo.join(',')}`
        seen.set(key, (seen.get(key) ?? 0) + 1)
      }
      assert.equal(sink.messages.length, 2 * total)
      assert.equal(seen.size, 2 * total, 'no (message, domain) pair arrived twice')
      const outcomes = await h.source.outcomes()
      assert.equal(outcomes.length, 2 * total)
      assert.ok(outcomes.every((o) => o.outcome.kind === 'delivered'))
    })

    test('stop() stops claiming and waits for the sends in flight', async (t) => {
      const sink = await startSmtpSink()
      const h = await deliveryHarness({ dialect: dialect.name, sink, relay: true, worker: { concurrency: 2 } })
      t.after(async () => { await h.close(); await sink.close() })
      for (let i = 0; i < 2; i++) await h.accept(outboundMessage())
      let claims = 0
      const claim = h.queue.claim.bind(h.queue)
      h.queue.claim = (o) => { claims++; return claim(o) }
      h.worker.start()
      await sink.waitForMessages(1)
      await h.worker.stop()
      const recorded = (await h.source.outcomes()).length
      assert.equal(recorded, sink.messages.length, 'every message received has its outcome recorded by the time stop() resolves')
      const claimsAtStop = claims
      await h.accept(outboundMessage())
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
      assert.equal(claims, claimsAtStop, 'the claim loop has exited')
      assert.deepEqual((await h.queue.stats()).leased, 0)
    })
  })
}
