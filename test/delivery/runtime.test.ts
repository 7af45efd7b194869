import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/load.ts'
import { createTestClock } from '../../src/core/clock.ts'
import { createDeliveryRuntime } from '../../src/delivery/runtime.ts'
import { SqlQueue } from '../../src/queue/sql-queue.ts'
import { testCerts } from '../helpers/certs.ts'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { openQueueDb } from '../queue/queue-db.ts'
import { createTestSource } from './memory-source.ts'
import { outboundMessage } from './fixtures.ts'

const silent = { info() {}, warn() {}, error() {}, debug() {} }

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: delivery runtime from config`, { skip: dialect.skip }, () => {
    test('SMTP_URL, SMTP_CA_FILE and signing threads from config deliver a message; close() ends cleanly', async (t) => {
      const certs = await testCerts()
      const sink = await startSmtpSink()
      const qdb = await openQueueDb(dialect.name)
      t.after(async () => { await qdb.close(); await sink.close() })
      const config = loadConfig({ SMTP_URL: sink.url, SMTP_CA_FILE: certs.caFile, DELIVERY_SIGNING_THREADS: '1', DELIVERY_POLL_MS: '20' })
      const clock = createTestClock()
      const queue = new SqlQueue(qdb.db, {
        clock, perDomain: !config.smtp.url, leaseMs: config.delivery.leaseMs, maxAttempts: config.delivery.maxAttempts,
        backoff: { baseMs: config.delivery.backoffBaseMs, maxMs: config.delivery.backoffMaxMs },
      })
      const source = await createTestSource(qdb.db)
      const msg = outboundMessage()
      source.add(msg)
      await queue.enqueue(qdb.db, [{ orgId: msg.orgId, messageId: msg.id, runAt: clock.now().getTime(), recipientDomains: ['example.org'] }])

      const runtime = await createDeliveryRuntime({ config, db: qdb.db, queue, source, clock, logger: silent })
      runtime.worker.start()
      await sink.waitForMessages(1)
      await runtime.close()
      assert.equal(sink.messages[0].secure, true)
      assert.deepEqual((await source.outcomes(msg.id)).map((o) => o.outcome.kind), ['delivered'])
    })
  })
}
