import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { testDialects } from '../helpers/dialects.ts'
import { cryptoFixture } from '../crypto/helpers.ts'
import { insertOrg } from '../../src/orgs/store.ts'
import { runOAuthCommand } from '../../src/cli/commands/oauth.ts'
import { MINUTE } from '../../src/core/clock.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: oauth CLI`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    await insertOrg(f.storage.db, { id: 'org_cli', name: 'CLI org', created_at: f.clock.now().getTime() })
    const deps = { db: f.storage.db, pepper: randomBytes(32).toString('hex'), cipher: f.envelope, clock: f.clock }
    const run = async (...argv: string[]) => { const lines: string[] = []; const code = await runOAuthCommand(argv, deps, (l) => lines.push(l)); return { code, out: lines.join('\n') } }

    await t.test('creates a confidential client and prints the secret once; lists it; deletes it', async () => {
      const c = await run('clients', 'create', '--org', 'org_cli', '--name', 'etl', '--kind', 'confidential', '--grant', 'client_credentials', '--scope', 'messages:read')
      assert.equal(c.code, 0)
      const id = /client_id\s+(\S+)/.exec(c.out)![1]
      assert.match(c.out, /client_secret\s+spcs_/)
      const l = await run('clients', 'list', '--org', 'org_cli')
      assert.ok(l.out.includes(id) && !l.out.includes('spcs_'))
      assert.equal((await run('clients', 'delete', '--org', 'org_cli', '--id', id)).code, 0)
      assert.ok(!(await run('clients', 'list', '--org', 'org_cli')).out.includes(id))
    })

    await t.test('creates a public native client with a loopback redirect', async () => {
      const c = await run('clients', 'create', '--org', 'org_cli', '--name', 'cli', '--kind', 'public', '--app', 'native',
        '--grant', 'authorization_code', '--grant', 'refresh_token', '--scope', 'messages:read', '--redirect-uri', 'http://127.0.0.1/cb')
      assert.equal(c.code, 0)
      assert.doesNotMatch(c.out, /client_secret/)
    })

    await t.test('keys: list, rotation refused before the lead time, then allowed', async () => {
      const l = await run('keys', 'list')
      assert.match(l.out, /active/)
      assert.match(l.out, /next/)
      await assert.rejects(run('keys', 'rotate'), /may sign after/)
      f.clock.advance(16 * MINUTE)
      const r = await run('keys', 'rotate')
      assert.equal(r.code, 0)
      assert.match(r.out, /retired \S+/)
    })

    await t.test('bad usage prints help', async () => {
      assert.equal((await run('clients', 'create', '--org', 'org_cli')).code, 2)
    })
  })
}
