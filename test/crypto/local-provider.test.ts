import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyProvider } from '../../src/crypto/local-provider.ts'
import { ensureLocalKeyfile, readKeyfile } from '../../src/crypto/keyfile.ts'
import { openKeyProvider } from '../../src/crypto/open-provider.ts'
import { isCryptoError } from '../../src/crypto/errors.ts'
import { loadConfig } from '../../src/config/load.ts'

const aad = Buffer.from('row-1')

test('local key provider', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-kek-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))

  await t.test('init creates the keyfile with mode 0600 and a 256-bit key, once', () => {
    const first = ensureLocalKeyfile(dir)
    assert.equal(first.created, true)
    assert.equal(statSync(first.path).mode & 0o777, 0o600)
    assert.equal(readKeyfile(first.path)[0].key.length, 32)
    const before = readFileSync(first.path, 'utf8')
    assert.equal(ensureLocalKeyfile(dir).created, false)
    assert.equal(readFileSync(first.path, 'utf8'), before)
  })

  await t.test('start-up refuses a keyfile readable by group or others', async () => {
    const path = join(dir, 'master.key')
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(path, mode)
      assert.throws(() => new LocalKeyProvider({ kind: 'file', path }), (e) => isCryptoError(e, 'keyfile_insecure') && e.message.includes('chmod 600'))
      await assert.rejects(openKeyProvider(loadConfig({ SEALPOST_DATA_DIR: dir })), (e) => isCryptoError(e, 'keyfile_insecure'))
    }
    chmodSync(path, 0o600)
  })

  await t.test('wraps and unwraps; a wrong AAD or a flipped bit is dek_unwrap_failed', async () => {
    const p = new LocalKeyProvider({ kind: 'file', path: join(dir, 'master.key') })
    const dek = randomBytes(32)
    const v = await p.currentVersion()
    const w = await p.wrap(v, dek, aad)
    assert.deepEqual(await p.unwrap(v, w, aad), dek)
    await assert.rejects(p.unwrap(v, w, Buffer.from('row-2')), (e) => isCryptoError(e, 'dek_unwrap_failed'))
    w[20] ^= 1
    await assert.rejects(p.unwrap(v, w, aad), (e) => isCryptoError(e, 'dek_unwrap_failed'))
    await assert.rejects(p.unwrap('local-9', w, aad), (e) => isCryptoError(e, 'kek_unavailable'))
  })

  await t.test('addVersion appends to the keyfile; another instance sees it; destroy removes only an old version', async () => {
    const path = join(dir, 'master.key')
    const a = new LocalKeyProvider({ kind: 'file', path })
    const b = new LocalKeyProvider({ kind: 'file', path })
    const w1 = await a.wrap('local-1', Buffer.alloc(32, 7), aad)
    assert.equal(await a.addVersion(), 'local-2')
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal(await b.currentVersion(), 'local-2')
    assert.deepEqual(await b.listVersions(), ['local-1', 'local-2'])
    await assert.rejects(a.destroyVersion('local-2'), (e) => isCryptoError(e, 'kek_readonly'))
    await a.destroyVersion('local-1')
    await assert.rejects(b.unwrap('local-1', w1, aad), (e) => isCryptoError(e, 'kek_unavailable'))
    assert.deepEqual(await b.listVersions(), ['local-2'])
  })

  await t.test('SEALPOST_MASTER_KEY: a single key or a keyring; read-only; bad keys refused', async () => {
    const k1 = randomBytes(32)
    const k2 = randomBytes(32)
    const single = new LocalKeyProvider({ kind: 'env', value: k1.toString('base64') })
    assert.equal(await single.currentVersion(), 'local-1')
    const ring = new LocalKeyProvider({ kind: 'env', value: `2:${k2.toString('hex')},1:${k1.toString('base64')}` })
    assert.equal(await ring.currentVersion(), 'local-2')
    // The same key under version 1 unwraps what the single-key provider wrapped.
    assert.deepEqual(await ring.unwrap('local-1', await single.wrap('local-1', k2, aad), aad), k2)
    await assert.rejects(ring.addVersion(), (e) => isCryptoError(e, 'kek_readonly'))
    assert.throws(() => new LocalKeyProvider({ kind: 'env', value: 'too-short' }), (e) => isCryptoError(e, 'keyfile_invalid'))
    const viaConfig = await openKeyProvider(loadConfig({ SEALPOST_DATA_DIR: dir, SEALPOST_MASTER_KEY: k1.toString('hex') }))
    assert.equal(await viaConfig.currentVersion(), 'local-1')
  })

  await t.test('a corrupt keyfile is keyfile_invalid', () => {
    const path = join(dir, 'corrupt.key')
    writeFileSync(path, '{"format":"nope"}', { mode: 0o600 })
    assert.throws(() => readKeyfile(path), (e) => isCryptoError(e, 'keyfile_invalid'))
  })
})
