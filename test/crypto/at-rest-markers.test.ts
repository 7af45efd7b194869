/**
 * Encryption at rest, checked the way an attacker with the disk would: write
 * values carrying unique marker strings through the API, then search the raw
 * SQLite database file and its WAL, and a pg_dump of the test schema.
 *
 * To cover another domain, add a MarkerWriter to `writers` (e.g. messages:
 * subject, body, recipients, attachment names/contents).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { buildTestApp, bearer, type TestApp, type SeededOrg } from '../helpers/harness.ts'
import { testDialects, PG_URL } from '../helpers/dialects.ts'

/** Writes values containing `marker` through the public API; every marker it returns must not appear at rest. */
type MarkerWriter = { name: string; write(h: TestApp, org: SeededOrg, marker: (label: string) => string): Promise<void> }

const writers: MarkerWriter[] = [
  {
    name: 'contacts',
    async write(h, org, marker) {
      for (let i = 0; i < 3; i++) {
        const r = await h.http.inject({
          method: 'POST', url: '/v1/contacts', headers: bearer(org.liveKey),
          payload: { email: `${marker('email')}@example.com`, first_name: marker('first'), last_name: marker('last'), attributes: { note: marker('attr') } },
        })
        assert.equal(r.statusCode, 201, r.body)
      }
      // An update writes new ciphertexts (and SQLite keeps old pages in the WAL).
      const list = (await h.http.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(org.liveKey) })).json()
      const r = await h.http.inject({ method: 'PATCH', url: `/v1/contacts/${list.data[0].id}`, headers: bearer(org.liveKey), payload: { first_name: marker('renamed') } })
      assert.equal(r.statusCode, 200, r.body)
    },
  },
  {
    name: 'messages',
    async write(h, org, marker) {
      await h.seedDomain(org.orgId, 'markers.test')
      const r = await h.http.inject({
        method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey),
        payload: {
          from: `Sender <news@markers.test>`, to: [`${marker('to')}@example.com`], cc: [`${marker('cc')}@example.org`],
          subject: marker('subject'), text: marker('text'), html: `<p>${marker('html')}</p>`,
          metadata: { ref: marker('meta') }, attachments: [{ filename: `${marker('file')}.txt`, content: Buffer.from(marker('attachment')).toString('base64'), content_type: 'text/plain' }],
        },
      })
      assert.equal(r.statusCode, 202, r.body)
      // A delivery outcome writes an event with recipients, and a hard bounce a suppression.
      await h.app.messageSource.recordOutcome(org.orgId, r.json().id, { kind: 'failed', recipients: [`${marker('bounced')}@example.com`], reason: `550 ${marker('reason')}`, bounce: 'hard' }, h.clock.now().getTime())
    },
  },
]

function sqliteFiles(dataDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const f of readdirSync(dataDir)) if (f.startsWith('sealpost.sqlite')) out.set(f, readFileSync(join(dataDir, f)))
  return out
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: no marker written through the API appears at rest`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const run = randomBytes(6).toString('hex')
    const markers: string[] = []
    const marker = (label: string) => { const m = `mk${run}${label}${markers.length}`; markers.push(m); return m }
    for (const w of writers) await w.write(h, org, marker)
    // Control: a value stored in clear on purpose (organization names are not secret) must be found,
    // so a scan that sees nothing proves nothing.
    const control = `ctl${run}visible`
    await h.db.updateTable('orgs').set({ name: control }).where('id', '=', org.orgId).execute()

    const leaks = (haystack: Buffer | string) => markers.filter((m) => haystack.includes(m))
    if (name === 'sqlite') {
      const files = sqliteFiles(h.dataDir)
      assert.ok(files.has('sealpost.sqlite-wal'), 'WAL mode: recent writes are in the -wal file')
      assert.ok([...files.values()].some((b) => b.includes(control)), 'control marker found in the database or WAL')
      for (const [f, bytes] of files) assert.deepEqual(leaks(bytes), [], `${f} holds a marker in clear`)
      // After a checkpoint everything is in the main file: still nothing.
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.db)
      for (const [f, bytes] of sqliteFiles(h.dataDir)) assert.deepEqual(leaks(bytes), [], `${f} (after checkpoint) holds a marker in clear`)
    } else {
      const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(h.db)
      const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', rows[0].s, '--data-only', '--no-owner'], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8')
      assert.ok(dump.includes(control), 'control marker found in the dump')
      assert.deepEqual(leaks(dump), [], 'pg_dump holds a marker in clear')
    }
    // And the API still returns them to a caller allowed to see them.
    const visible = (await h.http.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(org.liveKey) })).body
    assert.ok(markers.some((m) => visible.includes(m)))
  })
}
