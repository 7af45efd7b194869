/**
 * Issue 13, item 6: the secrets shown once at init (API keys, the owner's one-time
 * password) are never written to logs by the server: printed on a terminal, else
 * written to a 0600 file in the data folder whose path alone is announced.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verify } from '@node-rs/argon2'
import { handOverSecrets, INITIAL_CREDENTIALS_FILE } from '../../src/cli/secret-handoff.ts'
import { openStorage } from '../../src/storage/db.ts'
import { startServer } from '../helpers/server-process.ts'

const run = promisify(execFile)
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname
const SECRET = /sp_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}/

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-init-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('handOverSecrets: a terminal gets the text and no file is written; anything else gets a 0600 file and a notice without the secret', (t) => {
  const dir = tempDir(t)
  let printed = ''
  const notices: string[] = []
  const tty = handOverSecrets('key: s3cret', 'f.txt', { stdout: { isTTY: true, write: (s) => { printed += s } }, dataDir: dir, notice: (m) => notices.push(m) })
  assert.deepEqual(tty, { shown: 'terminal' })
  assert.equal(printed, 'key: s3cret\n')
  assert.equal(existsSync(join(dir, 'f.txt')), false)
  assert.equal(notices.length, 0)

  const piped = handOverSecrets('key: s3cret', 'f.txt', { stdout: { isTTY: false, write: (s) => { printed += s } }, dataDir: dir, notice: (m) => notices.push(m) })
  assert.deepEqual(piped, { shown: 'file', path: join(dir, 'f.txt') })
  assert.equal(printed, 'key: s3cret\n', 'nothing more was printed')
  assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), 'key: s3cret\n')
  assert.equal(statSync(join(dir, 'f.txt')).mode & 0o777, 0o600)
  assert.equal(notices.length, 1)
  assert.ok(notices[0].includes(join(dir, 'f.txt')) && !notices[0].includes('s3cret'))
})

test('init with stdout not a terminal: keys and one-time password only in DATA_DIR/initial-credentials.txt (0600)', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t)
  const env = { PATH: process.env.PATH, SEALPOST_DATA_DIR: dir, SEALPOST_LOG_LEVEL: 'info' }
  const r = await run(process.execPath, [CLI, 'init'], { env })
  const file = join(dir, INITIAL_CREDENTIALS_FILE)
  assert.ok(r.stdout.includes(`written to ${file} (mode 0600)`), r.stdout)
  assert.doesNotMatch(r.stdout + r.stderr, SECRET)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const text = readFileSync(file, 'utf8')
  assert.match(text, /live API key\s+sp_live_/)
  assert.match(text, /test API key\s+sp_test_/)
  const otp = /one-time password\s+(\S+)/.exec(text)?.[1]
  assert.ok(otp && otp.length >= 24)
  assert.ok(!(r.stdout + r.stderr).includes(otp))
  // It is the owner's password, flagged one-time.
  const storage = await openStorage({ sqliteFile: join(dir, 'sealpost.sqlite') })
  try {
    const owner = await storage.db.selectFrom('users').select(['password_hash', 'password_change_required', 'one_time_password_used_at']).executeTakeFirstOrThrow()
    assert.equal(owner.password_change_required, 1)
    assert.equal(owner.one_time_password_used_at, null)
    assert.equal(await verify(owner.password_hash, otp), true)
  } finally {
    await storage.close()
  }
})

test('init on a terminal prints the keys once and writes no file', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t)
  // script(1) runs the command on a pseudo-terminal, as a person at a shell would.
  const r = await run('script', ['-qec', `${process.execPath} ${CLI} init`, '/dev/null'], { env: { PATH: process.env.PATH, SEALPOST_DATA_DIR: dir, SEALPOST_LOG_LEVEL: 'silent' } })
  assert.match(r.stdout, /live API key\s+sp_live_[0-9A-Za-z]{12}_/)
  assert.match(r.stdout, /one-time password\s+\S{24}/)
  assert.equal(existsSync(join(dir, INITIAL_CREDENTIALS_FILE)), false)
})

test('first server start, output piped: the log names the file but never holds a secret; a restart reminds to delete it', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t)
  const env = { SEALPOST_DATA_DIR: dir, SEALPOST_HTTP_INSECURE_BEHIND_PROXY: 'true', SEALPOST_HOST: '127.0.0.1' }
  let server = await startServer(env, { timeoutMs: 120_000 })
  try {
    assert.match(server.liveKey ?? '', /^sp_live_/, 'the helper read the key from the file')
    assert.doesNotMatch(server.output(), SECRET)
    const otp = /one-time password\s+(\S+)/.exec(readFileSync(join(dir, INITIAL_CREDENTIALS_FILE), 'utf8'))![1]
    assert.ok(!server.output().includes(otp))
    assert.equal((await server.request('GET', '/v1/domains', { headers: { authorization: `Bearer ${server.liveKey}` } })).status, 200)
  } finally {
    await server.kill()
  }
  server = await startServer(env, { timeoutMs: 120_000 })
  try {
    assert.equal(server.liveKey, undefined)
    assert.match(server.output(), /initial-credentials\.txt still holds the initial secrets/)
  } finally {
    await server.kill()
  }
})
