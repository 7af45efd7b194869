import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { Kysely } from 'kysely'
import { testDialects } from '../helpers/dialects.ts'
import { cryptoFixture } from './helpers.ts'
import { newId } from '../../src/core/ids.ts'
import { MINUTE } from '../../src/core/clock.ts'
import { rotateKek, rewrapAllDeks, retireUnusedKeks } from '../../src/crypto/kek-rotation.ts'
import { countDeksByKek } from '../../src/crypto/dek-store.ts'
import { createColumnRegistry } from '../../src/crypto/registry.ts'
import { rotateOwnerDek, finishDekRotation } from '../../src/crypto/dek-rotation.ts'
import { createEnvelope } from '../../src/crypto/envelope.ts'
import { isCryptoError } from '../../src/crypto/errors.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: KEK rotation under a load of encrypts and decrypts`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    const orgs = Array.from({ length: 30 }, () => newId('org'))
    const seeded: { ctx: any; ct: string; pt: string }[] = []
    for (const [i, orgId] of orgs.entries()) {
      for (const subjectId of [undefined, `con_${i}`]) {
        const ctx = { orgId, table: 't', column: 'c', rowId: `r${i}`, subjectId }
        seeded.push({ ctx, pt: `value ${i}`, ct: await f.envelope.encrypt(ctx, `value ${i}`) })
      }
    }
    assert.deepEqual([...(await countDeksByKek(f.storage.db)).keys()], ['local-1'])

    let stop = false
    let ops = 0
    const failures: unknown[] = []
    // Workers: the warm envelope, plus "new processes" whose first use unwraps DEKs mid-rotation, plus brand-new orgs.
    async function worker(w: number) {
      while (!stop) {
        try {
          const env = ops % 7 === 0 ? await f.reopen() : f.envelope
          const s = seeded[(ops + w) % seeded.length]
          assert.equal(await env.decryptText(s.ctx, s.ct), s.pt)
          const ctx = { ...s.ctx, orgId: ops % 5 === 0 ? newId('org') : s.ctx.orgId, rowId: `w${w}-${ops}` }
          assert.equal(await env.decryptText(ctx, await env.encrypt(ctx, `w${w}`)), `w${w}`)
          ops++
        } catch (e) {
          failures.push(e)
          ops++
        }
        await new Promise((r) => setImmediate(r))
      }
    }
    const progress: number[] = []
    const workers = Array.from({ length: 4 }, (_, w) => worker(w))
    const opsBefore = ops
    const result = await rotateKek({ db: f.storage.db, provider: f.provider, clock: f.clock, batchSize: 7, onProgress: (p) => progress.push(p.done) })
    const opsDuring = ops - opsBefore
    // Keep the load running a little after the rotation (new processes, new orgs under the new KEK).
    const until = ops + 50
    while (ops < until) await new Promise((r) => setImmediate(r))
    stop = true
    await Promise.all(workers)

    assert.deepEqual(failures, [])
    assert.ok(opsDuring > 0 && ops > 50, `${opsDuring} operations ran during the rotation, ${ops} in all`)
    assert.equal(result.from, 'local-1')
    assert.equal(result.to, 'local-2')
    assert.ok(result.rewrapped >= seeded.length, `rewrapped ${result.rewrapped}`)
    assert.ok(progress.length > 1, 'progress was reported per batch')
    assert.deepEqual(result.retired, ['local-1'])
    const counts = await countDeksByKek(f.storage.db)
    assert.deepEqual([...counts.keys()], ['local-2'], 'no DEK is wrapped by the old KEK')
    assert.deepEqual(await f.provider.listVersions(), ['local-2'])
    assert.equal(JSON.parse(readFileSync(f.keyfile, 'utf8')).keys.length, 1, 'the old KEK is gone from the keyfile')
    // Everything still decrypts in a fresh process.
    const fresh = await f.reopen()
    for (const s of seeded) assert.equal(await fresh.decryptText(s.ctx, s.ct), s.pt)
  })

  test(`${name}: a KEK version still used by a DEK is not retired`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    await f.envelope.encrypt({ orgId: newId('org'), table: 't', column: 'c', rowId: 'r' }, 'x')
    await f.provider.addVersion()
    const r = await retireUnusedKeks({ db: f.storage.db, provider: f.provider })
    assert.deepEqual(r.retired, [])
    assert.equal(r.inUse['local-1'], 2) // the org DEK and the blind-index root key
    assert.deepEqual(await f.provider.listVersions(), ['local-1', 'local-2'])
    const again = await rewrapAllDeks({ db: f.storage.db, provider: f.provider, clock: f.clock })
    assert.equal(again.rewrapped, 2)
    assert.deepEqual((await retireUnusedKeks({ db: f.storage.db, provider: f.provider })).retired, ['local-1'])
  })

  test(`${name}: DEK rotation re-encrypts registered columns in batches, then deletes the old key`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    const db = f.storage.db as unknown as Kysely<any>
    await db.schema.createTable('rotation_rows')
      .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('org_id', 'text').addColumn('secret', 'text').execute()
    const registry = createColumnRegistry()
    registry.register({ table: 'rotation_rows', column: 'secret', idColumn: 'id', orgColumn: 'org_id' })
    const [orgA, orgB] = [newId('org'), newId('org')]
    const ctx = (orgId: string, id: string) => ({ orgId, table: 'rotation_rows', column: 'secret', rowId: id })
    for (let i = 0; i < 25; i++) {
      for (const orgId of [orgA, orgB]) {
        const id = `row_${orgId}_${String(i).padStart(3, '0')}`
        await db.insertInto('rotation_rows').values({ id, org_id: orgId, secret: await f.envelope.encrypt(ctx(orgId, id), `s${i}`) }).execute()
      }
    }
    const before = await db.selectFrom('rotation_rows').selectAll().where('org_id', '=', orgA).orderBy('id').executeTakeFirstOrThrow()
    const deps = { db: f.storage.db, envelope: f.envelope, registry, clock: f.clock, batchSize: 4, deleteRetired: true }
    const r = await rotateOwnerDek(deps, orgA)
    assert.deepEqual([r.from, r.to, r.reencrypted], [1, 2, 25])
    assert.deepEqual(r.pending, [1], 'the old key waits out the grace period (other processes may still hold it as current)')
    const rows = await db.selectFrom('rotation_rows').selectAll().orderBy('id').execute()
    for (const row of rows) {
      assert.match(row.secret, row.org_id === orgA ? /^sp1\.2\./ : /^sp1\.1\./)
      assert.match(await f.envelope.decryptText(ctx(row.org_id, row.id), row.secret), /^s\d+$/)
    }
    f.clock.advance(6 * MINUTE)
    assert.deepEqual((await finishDekRotation({ ...deps, deleteRetired: false }, orgA)).deleted, [], 'never deleted without the caller confirming')
    assert.deepEqual((await finishDekRotation(deps, orgA)).deleted, [1])
    const other = await createEnvelope({ db: f.storage.db, provider: f.provider, clock: f.clock })
    for (const row of rows.filter((x) => x.org_id === orgA)) assert.match(await other.decryptText(ctx(orgA, row.id), row.secret), /^s\d+$/)
    // A value written under the deleted version (e.g. restored from a backup) no longer decrypts.
    await assert.rejects(other.decrypt(ctx(orgA, before.id), before.secret), (e) => isCryptoError(e, 'dek_not_found'))
  })

  test(`${name}: another process picks up a rotated DEK after the current-key TTL`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    const orgId = newId('org')
    const ctx = { orgId, table: 't', column: 'c', rowId: 'r' }
    const other = await createEnvelope({ db: f.storage.db, provider: f.provider, clock: f.clock, currentKeyTtlMs: MINUTE })
    assert.match(await other.encrypt(ctx, 'a'), /^sp1\.1\./)
    await f.envelope.rotateDek(orgId)
    assert.match(await other.encrypt(ctx, 'a'), /^sp1\.1\./, 'within the TTL the cached key is used (no DB read per call)')
    f.clock.advance(MINUTE + 1)
    await other.encrypt(ctx, 'a') // triggers the background re-check
    let ct = ''
    for (let i = 0; i < 1000 && !ct.startsWith('sp1.2.'); i++) {
      await new Promise((r) => setImmediate(r))
      ct = await other.encrypt(ctx, 'a')
    }
    assert.match(ct, /^sp1\.2\./)
  })
}
