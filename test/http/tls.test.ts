import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type ConnectionOptions } from 'node:tls'
import { request } from 'node:https'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../../src/config/load.ts'
import { buildTestApp } from '../helpers/harness.ts'
import { ensureSelfSignedCertificate, prepareTls, watchCertificate, MODERN_TLS12_CIPHERS } from '../../src/http/tls.ts'

/** Outcome of a raw TLS handshake: the protocol and cipher, or the error. */
function handshake(port: number, opts: ConnectionOptions): Promise<{ ok: true; protocol: string | null; cipher: string; fingerprint: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => {
      resolve({ ok: true, protocol: s.getProtocol(), cipher: s.getCipher().standardName ?? s.getCipher().name, fingerprint: s.getPeerX509Certificate()?.fingerprint256 ?? '' })
      s.end()
    })
    s.on('error', (e) => resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }))
  })
}

function get(port: number, ca: Buffer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, servername: 'localhost', ca, method: 'GET', headers }, (res) => {
      let body = ''
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    r.on('error', reject)
    r.end()
  })
}

test('HTTPS listener', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-tls-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = loadConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_LOG_LEVEL: 'silent' })
  const warnings: string[] = []
  const tls = prepareTls(config, { warn: (m) => warnings.push(m) })!
  const h = await buildTestApp({ deps: { tls } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  const app = h.app
  await app.http.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.http.server.address() as AddressInfo).port
  const ca = readFileSync(tls.files.certFile)

  await t.test('zero-config: a self-signed localhost certificate is generated into DATA_DIR/tls with a private key of mode 0600', () => {
    assert.equal(tls.generated, true)
    assert.equal(tls.files.certFile, join(dataDir, 'tls', 'cert.pem'))
    assert.equal(statSync(tls.files.keyFile).mode & 0o077, 0)
    const cert = new X509Certificate(ca)
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/)
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/)
    assert.ok(warnings.some((w) => w.includes('--cacert') && w.includes('SEALPOST_TLS_CERT_FILE')))
  })

  await t.test('a TLS 1.1 client is refused (and the same client can speak TLS 1.1 to a server that allows it)', async () => {
    const legacy: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', ca }
    const control = createServer({ key: readFileSync(tls.files.keyFile), cert: ca, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end())
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r))
    t.after(() => control.close())
    const probe = await handshake((control.address() as AddressInfo).port, legacy)
    assert.deepEqual(probe.ok && probe.protocol, 'TLSv1.1', 'control: this OpenSSL build still speaks TLS 1.1')
    const refused = await handshake(port, legacy)
    assert.equal(refused.ok, false)
  })

  await t.test('TLS 1.2 and TLS 1.3 clients succeed, with forward-secret AEAD suites only', async () => {
    const v12 = await handshake(port, { ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })
    assert.ok(v12.ok, JSON.stringify(v12))
    assert.equal(v12.protocol, 'TLSv1.2')
    assert.match(v12.cipher, /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/)
    const v13 = await handshake(port, { ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
    assert.ok(v13.ok, JSON.stringify(v13))
    assert.equal(v13.protocol, 'TLSv1.3')
  })

  await t.test('a TLS 1.2 client offering only non-forward-secret or CBC suites is refused', async () => {
    for (const ciphers of ['AES128-SHA:AES256-SHA', 'AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA']) {
      const r = await handshake(port, { ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers })
      assert.equal(r.ok, false, ciphers)
    }
    assert.ok(!MODERN_TLS12_CIPHERS.includes('CBC') && !MODERN_TLS12_CIPHERS.includes('-SHA:'))
  })

  await t.test('curl-style request with the generated CA works; HSTS and helmet headers on 200, 404 and 401', async () => {
    const ok = await get(port, ca, '/healthz')
    assert.equal(ok.status, 200)
    const missing = await get(port, ca, `/v1/contacts/con_${'0'.repeat(26)}`, { authorization: `Bearer ${org.liveKey}` })
    assert.equal(missing.status, 404)
    const unauth = await get(port, ca, '/v1/contacts')
    assert.equal(unauth.status, 401)
    for (const r of [ok, missing, unauth]) {
      assert.equal(r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      assert.equal(r.headers['x-frame-options'], 'DENY')
      assert.equal(r.headers['referrer-policy'], 'no-referrer')
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/)
      assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/)
    }
  })

  await t.test('hot reload: replacing the certificate files swaps the served certificate without a restart', async () => {
    const before = await handshake(port, { ca })
    assert.ok(before.ok)
    const other = ensureSelfSignedCertificate(join(dataDir, 'next-cert')).files
    const reloaded = new Promise<void>((resolve, reject) => {
      const stop = watchCertificate(app.http.server as any, tls.files, { debounceMs: 20, onReload: () => { stop(); resolve() }, onError: reject })
    })
    copyFileSync(other.keyFile, tls.files.keyFile)
    copyFileSync(other.certFile, tls.files.certFile)
    await reloaded
    const after = await handshake(port, { ca: readFileSync(other.certFile) })
    assert.ok(after.ok, JSON.stringify(after))
    assert.notEqual(after.fingerprint, before.fingerprint)
    assert.equal(after.fingerprint, new X509Certificate(readFileSync(other.certFile)).fingerprint256)
  })
})

test('TLS configuration', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-tlscfg-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))

  await t.test('plain HTTP only when explicitly configured, with a warning', () => {
    const warnings: string[] = []
    assert.equal(prepareTls(loadConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_HTTP_INSECURE_BEHIND_PROXY: 'true' }), { warn: (m) => warnings.push(m) }), null)
    assert.match(warnings[0], /plain HTTP/)
  })

  await t.test('configured files are used; a mismatched pair fails at boot naming both variables', () => {
    const a = ensureSelfSignedCertificate(join(dataDir, 'a')).files
    const b = ensureSelfSignedCertificate(join(dataDir, 'b')).files
    const good = prepareTls(loadConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_TLS_CERT_FILE: a.certFile, SEALPOST_TLS_KEY_FILE: a.keyFile, SEALPOST_TLS_MIN_VERSION: 'TLSv1.3' }))!
    assert.equal(good.generated, false)
    assert.equal(good.options.minVersion, 'TLSv1.3')
    assert.throws(() => prepareTls(loadConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_TLS_CERT_FILE: a.certFile, SEALPOST_TLS_KEY_FILE: b.keyFile })),
      /SEALPOST_TLS_CERT_FILE=.*SEALPOST_TLS_KEY_FILE=/)
    assert.throws(() => loadConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_TLS_CERT_FILE: a.certFile }), /set together with SEALPOST_TLS_KEY_FILE/)
  })
})
