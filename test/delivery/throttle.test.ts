import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestClock } from '../../src/core/clock.ts'
import { createDomainThrottle } from '../../src/delivery/throttle.ts'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { deliveryHarness } from './delivery-harness.ts'
import { outboundMessage } from './fixtures.ts'

describe('per-destination throttle', () => {
  test('caps concurrent sends per destination, independently of other destinations', () => {
    const throttle = createDomainThrottle({ maxConcurrent: 2, perMinute: 6000, clock: createTestClock() })
    const a1 = throttle.tryAcquire('a.example')
    const a2 = throttle.tryAcquire('a.example')
    assert.ok(a1.ok && a2.ok)
    assert.equal(throttle.tryAcquire('a.example').ok, false)
    assert.deepEqual(throttle.saturated(), ['a.example'])
    assert.ok(throttle.tryAcquire('b.example').ok)
    a1.release()
    a1.release() // releasing twice frees one slot only
    assert.ok(throttle.tryAcquire('a.example').ok)
    assert.equal(throttle.tryAcquire('a.example').ok, false)
  })

  test('spreads sends at the per-minute rate, with a burst of ten seconds worth', () => {
    const clock = createTestClock()
    const throttle = createDomainThrottle({ maxConcurrent: 100, perMinute: 60, clock })
    for (let i = 0; i < 10; i++) {
      const slot = throttle.tryAcquire('a.example')
      assert.ok(slot.ok, `send ${i} of the burst`)
      slot.release()
    }
    const refused = throttle.tryAcquire('a.example')
    assert.deepEqual(refused, { ok: false, retryAt: clock.now().getTime() + 1000 })
    assert.deepEqual(throttle.saturated(), ['a.example'])
    clock.advance(1000)
    assert.ok(throttle.tryAcquire('a.example').ok)
  })
})

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: throttled jobs wait without using up attempts`, { skip: dialect.skip }, () => {
    test('over the destination rate, a job is handed back until a token is due', async (t) => {
      const sink = await startSmtpSink()
      // 6 per minute: a burst of 1, then one every 10 s.
      const h = await deliveryHarness({ dialect: dialect.name, sink, worker: { domainRatePerMinute: 6, concurrency: 4 } })
      t.after(async () => { await h.close(); await sink.close() })
      const first = outboundMessage()
      const second = outboundMessage()
      await h.accept(first)
      await h.accept(second)

      await h.worker.drain()
      assert.equal(sink.messages.length, 1)
      h.clock.advance(9_999)
      await h.worker.drain()
      assert.equal(sink.messages.length, 1, 'no token yet')
      h.clock.advance(1)
      await h.worker.drain()
      assert.equal(sink.messages.length, 2)
      const attempts = [...await h.jobs(first.id), ...await h.jobs(second.id)].map((j) => j.attempts)
      assert.deepEqual(attempts.sort(), [1, 1], 'waiting for the throttle is not an attempt')
    })
  })
}
