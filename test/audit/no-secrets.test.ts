import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import PostalMime from 'postal-mime'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { testCerts } from '../helpers/certs.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: secrets and message content never reach audit events or logs`, { skip }, async (t) => {
    const logs: string[] = []
    const logStream = new PassThrough()
    logStream.on('data', (c) => logs.push(String(c)))
    // The markers must really travel: accepted, delivered by a worker to a TLS sink, logged all the way.
    const sink = await startSmtpSink()
    const h = await buildTestApp({ dialect: name, logStream, env: { SMTP_URL: sink.url, SMTP_CA_FILE: (await testCerts()).caFile, DELIVERY_POLL_MS: '20' } })
    const workers = await h.app.startWorkers()
    t.after(async () => { await workers.stop(); await h.close(); await sink.close() })
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.example')

    const markers = {
      subject: 'Subj7f3eMARKER',
      text: 'Body9a1cMARKER',
      html: 'Html44d2MARKER',
      recipient: 'marker-rcpt-5e@example.org',
      attachment: Buffer.from('Attach31bbMARKER').toString('base64'),
    }
    const secrets: string[] = [org.liveKey, org.testKey]

    // A send with content in every field.
    const send = await h.http.inject({
      method: 'POST', url: '/v1/messages', headers: { ...bearer(org.liveKey), 'idempotency-key': 'idem-marker-1' },
      payload: {
        from: 'news@acme.example', to: [markers.recipient], subject: markers.subject, text: markers.text,
        html: `<p>${markers.html}</p>`, attachments: [{ filename: 'a.txt', content: markers.attachment, content_type: 'text/plain' }],
      },
    })
    assert.equal(send.statusCode, 202, send.body)
    await sink.waitForMessages(1)
    const delivered = await PostalMime.parse(sink.messages[0].raw)
    assert.deepEqual(sink.messages[0].envelope.rcptTo, [markers.recipient])
    assert.equal(delivered.subject, markers.subject)
    assert.match(delivered.text ?? '', new RegExp(markers.text))
    assert.match(delivered.html ?? '', new RegExp(markers.html))
    assert.equal(Buffer.from(delivered.attachments[0].content as ArrayBuffer).toString('base64'), markers.attachment)
    const id = send.json().id
    for (let i = 0; i < 500 && (await h.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status !== 'delivered'; i++) await new Promise((r) => setTimeout(r, 20))
    // A key creation: the secret is in the response once, never in the record of it.
    const created = await h.http.inject({ method: 'POST', url: '/v1/keys', headers: bearer(org.liveKey), payload: { name: 'ci', scopes: ['messages:send'], environment: 'live' } })
    assert.equal(created.statusCode, 201)
    secrets.push(created.json().secret)
    // A forged key, a key in the query string, a key in a path, a key in a malformed header.
    const forged = org.liveKey.slice(0, -10) + 'ZZZZZZZZZZ'
    secrets.push(forged)
    await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(forged) })
    await h.http.inject({ method: 'GET', url: `/v1/audit-events?api_key=${org.testKey}` })
    await h.http.inject({ method: 'GET', url: `/v1/nothing/${org.testKey}`, headers: bearer(org.liveKey) })
    await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { authorization: `Basic ${org.liveKey}` } })
    // A body that fails validation echoes nothing.
    await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: { subject: markers.subject, text: markers.text, extra: org.liveKey } })
    // An email address in a query parameter.
    await h.http.inject({ method: 'GET', url: `/v1/audit-events?actor=${encodeURIComponent(markers.recipient)}`, headers: bearer(org.liveKey) })

    await h.app.audit.writer.checkpoint()
    const stored = JSON.stringify([
      await h.db.selectFrom('audit_events').selectAll().execute(),
      await h.db.selectFrom('audit_checkpoints').selectAll().execute(),
    ])
    const logText = logs.join('')
    assert.ok(stored.includes('api.request'), 'events were recorded')
    assert.ok(logText.includes('incoming request'), 'requests were logged')

    for (const [what, marker] of [...Object.entries(markers), ...secrets.map((s, i) => [`secret ${i}`, s] as const)]) {
      assert.ok(!stored.includes(marker), `${what} found in stored audit events`)
      assert.ok(!logText.includes(marker), `${what} found in the log output`)
    }
    // The secret part of a key never appears even partially (its lookup id is public, so compare the tail).
    for (const s of secrets) {
      const tail = s.slice(-30)
      assert.ok(!stored.includes(tail) && !logText.includes(tail))
    }
  })

  test(`${name}: a graceful close writes every buffered event`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    let closed = false
    t.after(() => (closed ? undefined : h.close()))
    const org = await h.seedOrg()
    for (let i = 0; i < 25; i++) {
      await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { ...bearer(org.liveKey), 'x-request-id': `req-close-${String(i).padStart(3, '0')}` } })
    }
    assert.ok(h.app.audit.writer.stats().buffered > 0, 'events were still buffered')
    const db = h.db
    await h.app.close()
    const rows = await db.selectFrom('audit_events').select('request_id').where('request_id', 'like', 'req-close-%').execute()
    assert.equal(rows.length, 25)
    const lastMark = await db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', org.orgId).orderBy('seq', 'desc').executeTakeFirstOrThrow()
    const head = await db.selectFrom('audit_chain_heads').selectAll().where('chain_id', '=', org.orgId).executeTakeFirstOrThrow()
    assert.equal(Number(lastMark.seq), Number(head.seq), 'the newest event is covered by a signed checkpoint')
    closed = true
    await h.close().catch(() => {})
  })
}
