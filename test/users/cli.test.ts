import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verify } from '@node-rs/argon2'
import { openStorage } from '../../src/storage/db.ts'

const run = promisify(execFile)
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname

// The CLI opens storage from the environment like the server does: SQLite in a temporary data dir.
// Each CLI run boots the whole app (key provider, audit signer, OAuth keys): allow several minutes under load.
test('user CLI: create-owner, reset-mfa and reset-password, all in the audit trail', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, SEALPOST_DATA_DIR: dir, SEALPOST_LOG_LEVEL: 'silent', DATABASE_URL: '' }
  const cli = (...args: string[]) => run(process.execPath, [CLI, 'user', ...args], { env })

  const created = await cli('create-owner', '--email', 'Boss@Example.com', '--org', 'Boss Inc')
  assert.match(created.stdout, /owner Boss@Example.com \(usr_[0-9a-z]{26}\) of organization org_[0-9a-z]{26}/)
  // stdout is not a terminal: the one-time password goes to a 0600 file in the data folder, never to the output.
  const userId = /\((usr_[0-9a-z]{26})\)/.exec(created.stdout)![1]
  const file = join(dir, `one-time-password-${userId}.txt`)
  assert.ok(created.stdout.includes(`written to ${file} (mode 0600)`), created.stdout)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const password = /\(shown once\): (\S+)/.exec(readFileSync(file, 'utf8'))?.[1]
  assert.ok(password && password.length >= 24)
  assert.ok(!created.stdout.includes(password) && !created.stderr.includes(password))

  await assert.rejects(cli('create-owner', '--email', 'boss@example.com', '--org', 'Again'), (e: any) => e.code === 1 && /already exists/.test(e.stderr))
  await assert.rejects(cli('reset-mfa', 'boss@example.com'), (e: any) => e.code === 2)
  const reset = await cli('reset-mfa', 'boss@example.com', '--reason', 'lost phone, ticket 42')
  assert.match(reset.stdout, /MFA reset for boss@example.com/)
  // A new one-time password replaces the old one, in the same 0600 file (never on this output).
  const again = await cli('reset-password', 'boss@example.com', '--reason', 'lost the first session')
  assert.match(again.stdout, /password reset for boss@example.com/)
  const second = /\(shown once\): (\S+)/.exec(readFileSync(file, 'utf8'))?.[1]
  assert.ok(second && second !== password && !again.stdout.includes(second))

  const storage = await openStorage({ sqliteFile: join(dir, 'sealpost.sqlite') })
  try {
    const orgs = await storage.db.selectFrom('orgs').select('name').execute()
    assert.deepEqual(orgs.map((o) => o.name), ['Boss Inc'])
    const member = await storage.db.selectFrom('memberships').select('role').executeTakeFirstOrThrow()
    assert.equal(member.role, 'owner')
    const events = await storage.db.selectFrom('audit_events').select(['action', 'actor_type', 'actor_id', 'details']).orderBy('occurred_at').execute()
    const resetEvent = events.find((e) => e.action === 'mfa.reset')
    assert.ok(resetEvent, JSON.stringify(events))
    assert.match(String(resetEvent.actor_id), /^cli:/)
    assert.equal(JSON.parse(String(resetEvent.details)).reason, 'lost phone, ticket 42')
    assert.ok(events.some((e) => e.action === 'member.added'))
    assert.ok(events.some((e) => e.action === 'user.password_reset'))
    const owner = await storage.db.selectFrom('users').select(['password_hash', 'password_change_required']).executeTakeFirstOrThrow()
    assert.equal(owner.password_change_required, 1)
    assert.equal(await verify(owner.password_hash, second!), true)
  } finally {
    await storage.close()
  }
})
