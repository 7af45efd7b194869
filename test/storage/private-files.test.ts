/**
 * Issue 13, finding 10 / item 8: the SQLite database, WAL and SHM were mode 0644 in
 * a 0755 folder. Now the data folder is 0700 and the database files 0600 whatever the
 * umask, and looser existing modes are refused with the chmod that fixes them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { openStorage } from '../../src/storage/db.ts'
import { openRuntime } from '../../src/boot.ts'
import { PrivateModeError } from '../../src/core/private-file.ts'

const mode = (p: string) => statSync(p).mode & 0o777
const run = promisify(execFile)
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'sealpost-perm-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return root
}

test('a new data folder is 0700 and the database, -wal and -shm are 0600, even under umask 000', async (t) => {
  const dataDir = join(tempRoot(t), 'data')
  const previous = process.umask(0)
  let storage
  try {
    storage = await openStorage({ sqliteFile: join(dataDir, 'sealpost.sqlite') })
    // Writes make sure the WAL and the shared-memory index exist.
    await sql`create table t (x integer)`.execute(storage.db)
    await sql`insert into t values (1)`.execute(storage.db)
  } finally {
    process.umask(previous)
  }
  t.after(() => storage?.close())
  assert.equal(mode(dataDir), 0o700)
  for (const f of ['sealpost.sqlite', 'sealpost.sqlite-wal', 'sealpost.sqlite-shm']) {
    assert.ok(existsSync(join(dataDir, f)), f)
    assert.equal(mode(join(dataDir, f)).toString(8), '600', f)
  }
})

test('refuses to open a database file, WAL or SHM readable by others, naming the path and the chmod', async (t) => {
  for (const suffix of ['', '-wal', '-shm']) {
    const dataDir = join(tempRoot(t), 'data')
    mkdirSync(dataDir, { mode: 0o700 })
    const file = join(dataDir, 'sealpost.sqlite')
    if (suffix) {
      const s = await openStorage({ sqliteFile: file })
      await s.close()
    }
    writeFileSync(file + suffix, '', { flag: 'a' })
    chmodSync(file + suffix, 0o644)
    await assert.rejects(openStorage({ sqliteFile: file }), (e: Error) => {
      assert.ok(e instanceof PrivateModeError)
      assert.equal(e.message, `refusing to start: ${file + suffix} has mode 644; run chmod 600 ${file + suffix}`)
      return true
    })
    chmodSync(file + suffix, 0o600)
    await (await openStorage({ sqliteFile: file })).close()
  }
})

test('refuses a data folder group or others can enter, with the chmod to run (SQLite and any database)', async (t) => {
  const dataDir = join(tempRoot(t), 'data')
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o755)
  await assert.rejects(openStorage({ sqliteFile: join(dataDir, 'sealpost.sqlite') }), { message: `refusing to start: ${dataDir} has mode 755; run chmod 700 ${dataDir}` })
  // openRuntime checks the folder before anything else, also with PostgreSQL (the key files live there).
  await assert.rejects(openRuntime({ SEALPOST_DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, { createSecrets: true }), PrivateModeError)
  assert.equal(existsSync(join(dataDir, 'pepper.key')), false, 'no secret was written into the open folder')
})

test('the server refuses to start on a loose data folder with one clear line', { timeout: 120_000 }, async (t) => {
  const dataDir = join(tempRoot(t), 'data')
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o750)
  const r = await run(process.execPath, [MAIN], { env: { PATH: process.env.PATH, SEALPOST_DATA_DIR: dataDir, SEALPOST_PORT: '0' } }).then(() => null, (e) => e)
  assert.ok(r, 'the server started')
  assert.equal(r.code, 1)
  assert.equal(r.stderr.trim(), `refusing to start: ${dataDir} has mode 750; run chmod 700 ${dataDir}`)
})
