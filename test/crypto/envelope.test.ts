import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { cryptoFixture } from './helpers.ts'
import { newId } from '../../src/core/ids.ts'
import { isCryptoError } from '../../src/crypto/errors.ts'
import type { CipherContext } from '../../src/crypto/cipher.ts'

const orgA = newId('org')
const orgB = newId('org')
const at = (over: Partial<CipherContext> = {}): CipherContext => ({ orgId: orgA, table: 'messages', column: 'subject', rowId: 'msg_1', ...over })

for (const { name, skip } of await testDialects()) {
  test(`${name}: envelope encryption`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    const { envelope } = f

    await t.test('round-trips text and bytes under a versioned format', async () => {
      const ct = await envelope.encrypt(at(), 'Quarterly results ✓')
      assert.match(ct, /^sp1\.1\.[A-Za-z0-9_-]+$/)
      assert.ok(!ct.includes('Quarterly'))
      assert.equal(await envelope.decryptText(at(), ct), 'Quarterly results ✓')
      const bin = Buffer.from([0, 1, 2, 255])
      assert.deepEqual(await envelope.decrypt(at(), await envelope.encrypt(at(), bin)), bin)
      assert.equal(await envelope.decryptText(at(), await envelope.encrypt(at(), '')), '')
    })

    await t.test('encrypting the same value twice gives different ciphertexts (random IV)', async () => {
      assert.notEqual(await envelope.encrypt(at(), 'same'), await envelope.encrypt(at(), 'same'))
    })

    await t.test('a ciphertext moved to another row, column, table or organization fails with ciphertext_context_mismatch', async () => {
      await envelope.encrypt(at({ orgId: orgB }), 'org B has a key too')
      const ct = await envelope.encrypt(at(), 'secret subject')
      for (const moved of [at({ rowId: 'msg_2' }), at({ column: 'html' }), at({ table: 'contacts' }), at({ orgId: orgB })]) {
        await assert.rejects(envelope.decrypt(moved, ct), (e) => isCryptoError(e, 'ciphertext_context_mismatch') && /moved or tampered/.test(e.message))
      }
    })

    await t.test('a tampered ciphertext fails; a malformed one is ciphertext_malformed', async () => {
      const ct = await envelope.encrypt(at(), 'hello')
      const raw = Buffer.from(ct.split('.')[2], 'base64url')
      raw[14] ^= 1
      await assert.rejects(envelope.decrypt(at(), `sp1.1.${raw.toString('base64url')}`), (e) => isCryptoError(e, 'ciphertext_context_mismatch'))
      for (const bad of ['', 'hello', 'sp1.1.', 'sp2.1.AAAA', 'sp1.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'sp1.1.AAAA']) {
        await assert.rejects(envelope.decrypt(at(), bad), (e) => isCryptoError(e, 'ciphertext_malformed'))
      }
    })

    await t.test('another process (fresh cache) decrypts with the stored wrapped DEK', async () => {
      const ct = await envelope.encrypt(at(), 'across processes')
      const other = await f.reopen()
      assert.equal(await other.decryptText(at(), ct), 'across processes')
    })

    await t.test('DEKs are stored wrapped, never raw, and bound to their owner row', async () => {
      const rows = await f.storage.db.selectFrom('crypto_deks').selectAll().where('org_id', '=', orgA).execute()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].kek_version, 'local-1')
      assert.equal(Buffer.from(rows[0].wrapped, 'base64').length, 12 + 32 + 16)
      // Swap org A's wrapped key onto org B's row: unwrapping must fail (AAD binds the row).
      const b = await f.storage.db.selectFrom('crypto_deks').selectAll().where('org_id', '=', orgB).executeTakeFirstOrThrow()
      await f.storage.db.updateTable('crypto_deks').set({ wrapped: rows[0].wrapped }).where('id', '=', b.id).execute()
      const other = await f.reopen()
      await assert.rejects(other.encrypt(at({ orgId: orgB }), 'x'), (e) => isCryptoError(e, 'dek_unwrap_failed'))
      await f.storage.db.updateTable('crypto_deks').set({ wrapped: b.wrapped }).where('id', '=', b.id).execute()
    })

    await t.test('concurrent first use of a new organization creates exactly one DEK', async () => {
      const orgC = newId('org')
      const a = await f.reopen()
      const b = await f.reopen()
      const cts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).encrypt(at({ orgId: orgC }), `v${i}`)))
      const rows = await f.storage.db.selectFrom('crypto_deks').select('id').where('org_id', '=', orgC).execute()
      assert.equal(rows.length, 1)
      for (const [i, ct] of cts.entries()) assert.equal(await envelope.decryptText(at({ orgId: orgC }), ct), `v${i}`)
    })

    await t.test('per-subject keys: shredding a subject makes only its values unreadable', async () => {
      const c1 = at({ table: 'contacts', column: 'email', rowId: 'con_1', subjectId: 'con_1' })
      const c2 = at({ table: 'contacts', column: 'email', rowId: 'con_2', subjectId: 'con_2' })
      const ct1 = await envelope.encrypt(c1, 'ann@example.com')
      const ct2 = await envelope.encrypt(c2, 'bob@example.com')
      // The org key does not open a subject-keyed value.
      await assert.rejects(envelope.decrypt({ ...c1, subjectId: undefined }, ct1), (e) => isCryptoError(e))
      assert.equal(await envelope.shredSubject(orgA, 'con_1'), 1)
      await assert.rejects(envelope.decrypt(c1, ct1), (e) => isCryptoError(e, 'dek_destroyed'))
      await assert.rejects((await f.reopen()).decrypt(c1, ct1), (e) => isCryptoError(e, 'dek_destroyed'))
      assert.equal(await envelope.decryptText(c2, ct2), 'bob@example.com')
      await assert.rejects(envelope.shredSubject(orgA, ''), /refusing/)
    })

    await t.test('DEK rotation: new writes use the new version, old values still decrypt', async () => {
      const old = await envelope.encrypt(at(), 'before')
      const { from, to } = await envelope.rotateDek(orgA)
      assert.deepEqual([from, to], [1, 2])
      const fresh = await envelope.encrypt(at(), 'after')
      assert.match(fresh, /^sp1\.2\./)
      assert.equal(await envelope.decryptText(at(), old), 'before')
      assert.equal(await (await f.reopen()).decryptText(at(), fresh), 'after')
    })

    await t.test('blind index: deterministic per organization and purpose, keyed apart from the DEKs', async () => {
      const x = envelope.blindIndex(orgA, 'contacts.email', 'ann@example.com')
      assert.equal(x, envelope.blindIndex(orgA, 'contacts.email', 'ann@example.com'))
      assert.equal(x, (await f.reopen()).blindIndex(orgA, 'contacts.email', 'ann@example.com'))
      assert.notEqual(x, envelope.blindIndex(orgB, 'contacts.email', 'ann@example.com'))
      assert.notEqual(x, envelope.blindIndex(orgA, 'suppressions.email', 'ann@example.com'))
      assert.notEqual(x, envelope.blindIndex(orgA, 'contacts.email', 'ann@example.org'))
      assert.match(x, /^[A-Za-z0-9_-]{43}$/)
    })
  })
}
