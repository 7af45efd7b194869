import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import * as graphene from 'graphene-pk11'
import { Pkcs11KeyProvider, acquirePkcs11Module, releasePkcs11Module } from '../../src/crypto/pkcs11-provider.ts'
import { isCryptoError } from '../../src/crypto/errors.ts'
import { createEnvelope } from '../../src/crypto/envelope.ts'
import { openStorage } from '../../src/storage/db.ts'
import { createTestClock } from '../../src/core/clock.ts'
import { newId } from '../../src/core/ids.ts'
import { createSoftHsmToken, softhsmSkip } from './softhsm.ts'

const skip = softhsmSkip()

test('PKCS#11 key provider against a real SoftHSM2 token', { skip }, async (t) => {
  const token = createSoftHsmToken()
  t.after(() => token.cleanup())
  const opts = { library: token.library, tokenLabel: token.tokenLabel, pin: token.pin, keyLabel: 'sealpost-kek' }
  const aad = Buffer.from('dek row binding')

  // First, while nothing in this process is logged in (login state is per process and token).
  await t.test('a wrong PIN or token label is refused at open', async () => {
    await assert.rejects(Pkcs11KeyProvider.open({ ...opts, pin: '000000' }), (e) => isCryptoError(e, 'provider_error') && /login failed/.test(e.message) && (e.cause as any)?.code === 0xa0)
    await assert.rejects(Pkcs11KeyProvider.open({ ...opts, tokenLabel: 'nope' }), (e) => isCryptoError(e, 'provider_error') && /no PKCS#11 token/.test(e.message))
  })

  const p = await Pkcs11KeyProvider.open(opts)
  t.after(() => p.close())

  await t.test('first open creates KEK version 1 in the token', async () => {
    assert.equal(await p.currentVersion(), 'pkcs11-1')
    assert.deepEqual(await p.listVersions(), ['pkcs11-1'])
  })

  await t.test('the KEK is a sensitive, non-extractable AES key: its value cannot be read out', () => {
    const mod = acquirePkcs11Module(token.library)
    try {
      const slot = mod.getSlots(0, true)
      const s = slot.open(graphene.SessionFlag.SERIAL_SESSION)
      // Already logged in: the provider's login covers every session of this process.
      const key = s.find({ class: graphene.ObjectClass.SECRET_KEY, label: 'sealpost-kek-1' }).items(0).toType<graphene.SecretKey>()
      assert.equal(key.extractable, false)
      assert.equal(key.sensitive, true)
      assert.throws(() => key.getAttribute({ value: null }))
      s.close()
    } finally {
      releasePkcs11Module(token.library)
    }
  })

  await t.test('wraps with AES-GCM inside the token; AAD and tampering are enforced', async () => {
    const dek = randomBytes(32)
    const w = await p.wrap('pkcs11-1', dek, aad)
    assert.equal(w.length, 12 + 32 + 16)
    assert.ok(!w.includes(dek))
    assert.deepEqual(await p.unwrap('pkcs11-1', w, aad), dek)
    await assert.rejects(p.unwrap('pkcs11-1', w, Buffer.from('another row')), (e) => isCryptoError(e, 'dek_unwrap_failed'))
    const bad = Buffer.from(w)
    bad[15] ^= 1
    await assert.rejects(p.unwrap('pkcs11-1', bad, aad), (e) => isCryptoError(e, 'dek_unwrap_failed'))
    await assert.rejects(p.unwrap('pkcs11-7', w, aad), (e) => isCryptoError(e, 'kek_unavailable'))
  })

  await t.test('a new version becomes current; old wraps still unwrap until it is destroyed', async () => {
    const dek = randomBytes(32)
    const w1 = await p.wrap('pkcs11-1', dek, aad)
    assert.equal(await p.addVersion(), 'pkcs11-2')
    assert.equal(await p.currentVersion(), 'pkcs11-2')
    assert.deepEqual(await p.unwrap('pkcs11-1', w1, aad), dek)
    await assert.rejects(p.destroyVersion('pkcs11-2'), (e) => isCryptoError(e, 'kek_readonly'))
    await p.destroyVersion('pkcs11-1')
    await assert.rejects(p.unwrap('pkcs11-1', w1, aad), (e) => isCryptoError(e, 'kek_unavailable'))
    assert.deepEqual(await p.listVersions(), ['pkcs11-2'])
  })

  await t.test('drives the envelope end to end (DEKs wrapped by the HSM)', async () => {
    const storage = await openStorage({ sqliteFile: ':memory:' })
    t.after(() => storage.close())
    const env = await createEnvelope({ db: storage.db, provider: p, clock: createTestClock() })
    const ctx = { orgId: newId('org'), table: 'contacts', column: 'email', rowId: 'con_1' }
    const ct = await env.encrypt(ctx, 'hsm@example.com')
    assert.equal(await (await createEnvelope({ db: storage.db, provider: p, clock: createTestClock() })).decryptText(ctx, ct), 'hsm@example.com')
    const rows = await storage.db.selectFrom('crypto_deks').select('kek_version').execute()
    assert.ok(rows.every((r) => r.kek_version === 'pkcs11-2'))
  })
})
