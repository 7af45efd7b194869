import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { deliveryHarness, BASE_MS } from './delivery-harness.ts'
import { outboundMessage } from './fixtures.ts'

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: retries and back-off`, { skip: dialect.skip }, () => {
    for (const code of [421, 451]) {
      test(`a receiver answering ${code} is retried later with back-off, and not hammered meanwhile`, async (t) => {
        const sink = await startSmtpSink({ replies: { rcptTo: { code, message: code === 421 ? 'Too many connections, slow down' : 'Greylisted, try again later' } } })
        const h = await deliveryHarness({ dialect: dialect.name, sink, maxAttempts: 5 })
        t.after(async () => { await h.close(); await sink.close() })
        const first = outboundMessage()
        await h.accept(first)
        const t0 = h.clock.now().getTime()

        await h.worker.drain()
        const [deferred] = (await h.source.outcomes(first.id)).map((o) => o.outcome)
        assert.equal(deferred.kind, 'deferred')
        assert.equal((deferred as any).attempt, 1)
        assert.equal((deferred as any).retryAt, t0 + BASE_MS)
        assert.match((deferred as any).reason, new RegExp(`^localhost:\\d+: ${code} `))
        const rcptAfterFirst = sink.counts.rcptTo

        // A second message to the same domain while it is paused: nobody knocks on its door.
        const second = outboundMessage()
        await h.accept(second)
        h.clock.advance(BASE_MS - 1)
        assert.equal(await h.worker.drain(), 0)
        assert.equal(sink.counts.rcptTo, rcptAfterFirst)

        // Still refusing at the second attempt: the window doubles.
        h.clock.advance(1)
        await h.worker.drain()
        const retried = (await h.source.outcomes(first.id)).map((o) => o.outcome)
        assert.equal(retried[1].kind, 'deferred')
        assert.equal((retried[1] as any).attempt, 2)
        assert.equal((retried[1] as any).retryAt, t0 + BASE_MS + 2 * BASE_MS)

        // The receiver recovers; both messages go out at the next due time, once each.
        sink.setReplies({})
        h.clock.advance(2 * BASE_MS)
        await h.worker.drain()
        assert.equal(sink.messages.length, 2)
        assert.deepEqual((await h.source.outcomes(first.id)).map((o) => o.outcome.kind), ['deferred', 'deferred', 'delivered'])
        assert.equal((await h.source.outcomes(second.id)).at(-1)!.outcome.kind, 'delivered')
      })
    }

    test('after maxAttempts the message fails with the last reason (a soft bounce)', async (t) => {
      const sink = await startSmtpSink({ replies: { mailFrom: { code: 450, message: 'Mailbox busy' } } })
      const h = await deliveryHarness({ dialect: dialect.name, sink, maxAttempts: 3 })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage()
      await h.accept(msg)
      for (let i = 0; i < 3; i++) {
        await h.worker.drain()
        h.clock.advance(16 * BASE_MS)
      }
      const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.deepEqual(outcomes.map((o) => o.kind), ['deferred', 'deferred', 'failed'])
      assert.match((outcomes[2] as any).reason, /^gave up after 3 attempts: localhost:\d+: 450 Mailbox busy/)
      assert.equal((outcomes[2] as any).bounce, 'soft')
      const [job] = await h.jobs(msg.id)
      assert.deepEqual([job.state, job.attempts], ['failed', 3])
      assert.match(job.last_error ?? '', /gave up after 3 attempts/)
      assert.equal(await h.worker.drain(), 0, 'a failed job is never claimed again')
    })

    test('per recipient: a 5xx RCPT fails only that recipient (hard), a 4xx is retried alone', async (t) => {
      const sink = await startSmtpSink({
        replies: {
          rcptTo: (address) => address.startsWith('gone@') ? { code: 550, message: 'No such user' }
            : address.startsWith('full@') ? { code: 452, message: 'Mailbox full' } : undefined,
        },
      })
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ to: ['ann@example.org', 'gone@example.org'], cc: ['full@example.org'] })
      await h.accept(msg)

      await h.worker.drain()
      assert.equal(sink.messages.length, 1)
      assert.deepEqual(sink.messages[0].envelope.rcptTo, ['ann@example.org'])
      const first = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.deepEqual(first.map((o) => [o.kind, o.recipients]), [
        ['delivered', ['ann@example.org']],
        ['failed', ['gone@example.org']],
        ['deferred', ['full@example.org']],
      ])
      assert.equal((first[1] as any).bounce, 'hard')
      assert.match((first[1] as any).reason, /550 No such user/)

      sink.setReplies({})
      h.clock.advance(BASE_MS)
      await h.worker.drain()
      assert.equal(sink.messages.length, 2)
      assert.deepEqual(sink.messages[1].envelope.rcptTo, ['full@example.org'], 'only the deferred recipient is retried')
      const last = (await h.source.outcomes(msg.id)).at(-1)!.outcome
      assert.deepEqual([last.kind, last.recipients], ['delivered', ['full@example.org']])
      assert.equal((await h.jobs(msg.id))[0].state, 'done')
    })

    test('a 5xx to the whole message fails every recipient of the job at once', async (t) => {
      const sink = await startSmtpSink({ replies: { data: { code: 554, message: 'Message refused' } } })
      const h = await deliveryHarness({ dialect: dialect.name, sink })
      t.after(async () => { await h.close(); await sink.close() })
      const msg = outboundMessage({ to: ['a@example.org', 'b@example.org'] })
      await h.accept(msg)
      await h.worker.drain()
      const outcomes = (await h.source.outcomes(msg.id)).map((o) => o.outcome)
      assert.deepEqual(outcomes.map((o) => [o.kind, o.recipients, (o as any).bounce]), [['failed', ['a@example.org', 'b@example.org'], 'hard']])
      assert.equal(sink.messages.length, 0)
    })
  })
}
