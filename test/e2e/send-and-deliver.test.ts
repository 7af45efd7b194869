/**
 * Black-box: the real server process (`node src/main.ts`), a real TLS smtp-server
 * sink as the relay, and HTTPS requests, on SQLite and on PostgreSQL.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { authenticate } from 'mailauth'
import { startServer, type ServerProcess } from '../helpers/server-process.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { testCerts } from '../helpers/certs.ts'
import { testDialects, PG_URL } from '../helpers/dialects.ts'
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts'

const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const mail = (over: Record<string, unknown> = {}) => ({
  from: 'Sealpost Test <hello@sealpost.localhost>', to: ['alice@example.com'], subject: 'E2E', text: 'hello from the e2e test', ...over,
})

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sp_e2e_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The bootstrap domain is pending: publish its records in the test DNS server and verify it, as its owner would. */
async function verifyDomain(server: ServerProcess, key: string, dns: DnsServer, name = 'sealpost.localhost') {
  const domain = (await server.request('GET', '/v1/domains', { headers: auth(key) })).json().data.find((d: any) => d.name === name)
  dns.publish(domain.records)
  const verified = await server.request('POST', `/v1/domains/${domain.id}/verify`, { headers: auth(key) })
  assert.equal(verified.json().status, 'verified', verified.body)
  return verified.json()
}

const statusOf = async (s: ServerProcess, key: string, id: string) => (await s.request('GET', `/v1/messages/${id}`, { headers: auth(key) })).json()
const finalStatus = (s: ServerProcess, key: string, id: string, accept: string[]) =>
  waitFor(`message ${id} to reach ${accept.join('/')}`, async () => { const m = await statusOf(s, key, id); return accept.includes(m.status) && m })

for (const { name, skip } of await testDialects()) {
  test(`${name}: send over HTTPS, deliver over TLS, DKIM verifies`, { skip, timeout: 300_000 }, async (t) => {
    const certs = await testCerts()
    const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-'))
    const db = name === 'postgres' ? await freshDatabase() : null
    const sink: SmtpSink = await startSmtpSink({ tls: 'starttls' })
    const dns = await startDnsServer()
    const env = {
      SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SMTP_CA_FILE: certs.caFile, SEALPOST_DNS_SERVERS: dns.address,
      DELIVERY_POLL_MS: '50', DELIVERY_BACKOFF_BASE_MS: '200', DELIVERY_BACKOFF_MAX_MS: '400', DELIVERY_LEASE_MS: '15000',
      ...(db ? { DATABASE_URL: db.url } : {}),
    }
    let server = await startServer(env)
    t.after(async () => { await server.kill('SIGKILL'); await sink.close(); await dns.close(); await db?.drop(); rmSync(dataDir, { recursive: true, force: true }) })
    const liveKey = server.liveKey!
    const testKey = server.testKey!
    assert.match(liveKey, /^sp_live_/)
    assert.match(testKey, /^sp_test_/)

    await t.test('the domain created at init is pending: live mail from it is refused until its DNS records verify', async () => {
      const r = await server.request('POST', '/v1/messages', { headers: auth(liveKey), body: mail() })
      assert.equal(r.status, 403, r.body)
      assert.equal(r.json().error.code, 'domain_not_verified')
      const unproven = await server.request('POST', `/v1/domains/${r.json().error.details[0].domain_id}/verify`, { headers: auth(liveKey) })
      assert.equal(unproven.json().status, 'pending', 'nothing published yet')
      const verified = await verifyDomain(server, liveKey, dns)
      assert.deepEqual(verified.last_check.map((c: any) => [c.purpose, c.ok]), [['verification', true], ['dkim', true], ['spf', true], ['dmarc', true]])
    })

    await t.test('a message is delivered to the TLS sink and its DKIM signature verifies against the published key', async () => {
      const domains = (await server.request('GET', '/v1/domains', { headers: auth(liveKey) })).json().data
      const domain = domains.find((d: any) => d.name === 'sealpost.localhost')
      const dkimRecord = domain.records.find((r: any) => r.purpose === 'dkim')
      const r = await server.request('POST', '/v1/messages', { headers: auth(liveKey), body: mail() })
      assert.equal(r.status, 202, r.body)
      const { id } = r.json()
      const m = await finalStatus(server, liveKey, id, ['delivered', 'failed'])
      assert.equal(m.status, 'delivered', JSON.stringify(m.events))
      const received = sink.messages.find((x) => x.raw.includes(`${id}@sealpost.localhost`))!
      assert.ok(received, 'the sink received the message')
      assert.ok(received.secure, 'delivered over TLS')
      assert.match(received.tlsProtocol ?? '', /TLSv1\.[23]/)
      const resolver = async (qname: string, rr: string) => {
        if (rr === 'TXT' && qname === dkimRecord.name) return [[dkimRecord.value]]
        throw Object.assign(new Error(`no ${rr} for ${qname}`), { code: 'ENOTFOUND' })
      }
      const result = await authenticate(received.raw, { ip: '127.0.0.1', helo: 'localhost', sender: 'hello@sealpost.localhost', resolver, trustReceived: false } as any)
      const dkim = (result as any).dkim.results[0]
      assert.equal(dkim.status.result, 'pass', JSON.stringify(dkim.status))
      assert.equal(dkim.signingDomain, 'sealpost.localhost')
    })

    await t.test('an idempotent replay returns the same id and is delivered once', async () => {
      const headers = { ...auth(liveKey), 'idempotency-key': 'e2e-once' }
      const a = (await server.request('POST', '/v1/messages', { headers, body: mail({ subject: 'once' }) })).json()
      const b = (await server.request('POST', '/v1/messages', { headers, body: mail({ subject: 'once' }) })).json()
      assert.equal(a.id, b.id)
      await finalStatus(server, liveKey, a.id, ['delivered'])
      assert.equal(sink.messages.filter((x) => x.raw.includes(`${a.id}@`)).length, 1)
    })

    await t.test('a test key runs the whole pipeline and ends sandboxed, never delivered', async () => {
      const { id } = (await server.request('POST', '/v1/messages', { headers: auth(testKey), body: mail({ subject: 'sandbox' }) })).json()
      const m = await finalStatus(server, testKey, id, ['sandboxed', 'delivered', 'failed'])
      assert.equal(m.status, 'sandboxed')
      assert.equal(sink.messages.filter((x) => x.raw.includes(`${id}@`)).length, 0)
    })

    await t.test('credentials: tampered checksum 401, key in query 400, revoked key 401', async () => {
      const tampered = liveKey.slice(0, -1) + (liveKey.endsWith('A') ? 'B' : 'A')
      assert.equal((await server.request('POST', '/v1/messages', { headers: auth(tampered), body: mail() })).status, 401)
      const inQuery = await server.request('GET', `/v1/messages?api_key=${liveKey}`)
      assert.equal(inQuery.status, 400)
      assert.equal(inQuery.json().error.code, 'key_in_query')
      const created = await server.request('POST', '/v1/keys', { headers: auth(liveKey), body: { name: 'doomed', scopes: ['messages:send'], environment: 'live' } })
      assert.equal(created.status, 201, created.body)
      const doomed = created.json()
      assert.equal((await server.request('POST', '/v1/messages', { headers: auth(doomed.secret), body: mail() })).status, 202)
      assert.equal((await server.request('POST', `/v1/keys/${doomed.key.id}/revoke`, { headers: auth(liveKey) })).status, 200)
      assert.equal((await server.request('POST', '/v1/messages', { headers: auth(doomed.secret), body: mail() })).status, 401)
    })

    await t.test('SIGKILL with messages queued: after a restart each is delivered exactly once', async () => {
      // The sink defers every DATA, so messages sit queued (some mid-retry) when the server is killed.
      sink.setReplies({ data: { code: 451, message: '4.3.0 try again later' } })
      const ids: string[] = []
      for (let i = 0; i < 10; i++) ids.push((await server.request('POST', '/v1/messages', { headers: auth(liveKey), body: mail({ subject: `crash ${i}` }) })).json().id)
      await waitFor('a deferral', async () => (await statusOf(server, liveKey, ids[0])).status === 'deferred')
      await server.kill('SIGKILL')
      sink.setReplies({})
      server = await startServer(env)
      assert.equal(server.liveKey, undefined, 'keys are printed once, never on a restart')
      try {
        for (const id of ids) await finalStatus(server, liveKey, id, ['delivered'])
      } catch (e) {
        const notable = server.output().split('\n').filter((l) => !l.includes('"level":30')).join('\n')
        throw new Error(`${(e as Error).message}\n--- server warnings ---\n${notable.slice(-6000)}`)
      }
      for (const id of ids) assert.equal(sink.messages.filter((x) => x.raw.includes(`${id}@`)).length, 1, `${id} delivered once`)
    })
  })

  test(`${name}: a relay without STARTTLS or limited to TLS 1.0/1.1 receives nothing`, { skip, timeout: 300_000 }, async (t) => {
    const certs = await testCerts()
    for (const [label, sinkOpts, reason] of [
      ['no STARTTLS', { tls: 'none' as const }, /STARTTLS|TLS/i],
      ['TLS 1.0/1.1 only', { tls: 'starttls' as const, minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' }, /TLS/i],
    ] as const) {
      await t.test(label, async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-'))
        const db = name === 'postgres' ? await freshDatabase() : null
        const sink = await startSmtpSink(sinkOpts)
        const dns = await startDnsServer()
        const server = await startServer({
          SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SMTP_CA_FILE: certs.caFile, DELIVERY_MAX_ATTEMPTS: '2', SEALPOST_DNS_SERVERS: dns.address,
          DELIVERY_POLL_MS: '50', DELIVERY_BACKOFF_BASE_MS: '100', DELIVERY_BACKOFF_MAX_MS: '200', ...(db ? { DATABASE_URL: db.url } : {}),
        })
        try {
          await verifyDomain(server, server.liveKey!, dns)
          const { id } = (await server.request('POST', '/v1/messages', { headers: auth(server.liveKey!), body: mail() })).json()
          const m = await finalStatus(server, server.liveKey!, id, ['failed', 'delivered'])
          assert.equal(m.status, 'failed')
          assert.match(m.events.at(-1).reason, reason)
          assert.equal(sink.messages.length, 0)
          assert.equal(sink.counts.mailFrom, 0, 'not even MAIL FROM was sent in clear')
        } finally {
          await server.kill('SIGKILL'); await sink.close(); await dns.close(); await db?.drop(); rmSync(dataDir, { recursive: true, force: true })
        }
      })
    }
  })
}
