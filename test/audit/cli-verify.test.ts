import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { buildTestApp } from '../helpers/harness.ts'
import { asAttacker, seedChain } from './tamper.ts'

const run = promisify(execFile)
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname

async function cli(dataDir: string, ...args: string[]) {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'audit', ...args], { env: { PATH: process.env.PATH, SEALPOST_DATA_DIR: dataDir, SEALPOST_LOG_LEVEL: 'silent' } })
    return { code: 0, stdout }
  } catch (e: any) {
    return { code: e.code as number, stdout: String(e.stdout) + String(e.stderr) }
  }
}

test('npm run cli -- audit verify names the first tampered event', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const { orgId, rows } = await seedChain(h.db, h.app.audit, 12)
  await h.app.audit.writer.checkpoint()

  const clean = await cli(h.dataDir, 'verify')
  assert.equal(clean.code, 0, clean.stdout)
  assert.match(clean.stdout, /^OK: \d+ chain\(s\), \d+ event\(s\)/m)

  await asAttacker(h.db, async (trx) => {
    await trx.updateTable('audit_events').set({ status: 204 }).where('id', '=', rows[5].id).execute()
    await trx.deleteFrom('audit_events').where('id', '=', rows[9].id).execute()
  })
  const bad = await cli(h.dataDir, 'verify', '--org', orgId)
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, new RegExp(`FAIL ${orgId}: modified event ${rows[5].id} \\(seq 6\\)`))
  assert.match(bad.stdout, /^TAMPERED/m)

  const usage = await cli(h.dataDir, 'nonsense')
  assert.equal(usage.code, 2)
})

test('npm run cli -- audit purge applies retention with signed anchors', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const now = h.clock.now().getTime()
  h.clock.set(new Date(now - 120 * 86_400_000))
  const { orgId } = await seedChain(h.db, h.app.audit, 4)
  h.clock.set(new Date(now))
  await seedChain(h.db, h.app.audit, 2, orgId)
  const r = await cli(h.dataDir, 'purge')
  assert.equal(r.code, 0, r.stdout)
  assert.match(r.stdout, new RegExp(`purged 4 event\\(s\\) from ${orgId}`))
  const v = await cli(h.dataDir, 'verify', '--org', orgId)
  assert.equal(v.code, 0, v.stdout)
})
