/**
 * TLS for the HTTPS listener:
 * - certificate and key from files (SEALPOST_TLS_CERT_FILE / _KEY_FILE), re-read
 *   when either file changes and swapped in with `server.setSecureContext` (no restart,
 *   open connections keep their session);
 * - TLS 1.2 minimum (1.3 optional), forward-secret AEAD cipher suites only;
 * - zero-config quickstart: a self-signed localhost certificate generated with
 *   openssl into DATA_DIR/tls/ on first start (a boot warning says so);
 * - plain HTTP only with SEALPOST_HTTP_INSECURE_BEHIND_PROXY=true.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { Config } from '../config/load.ts'

/** TLS 1.2 suites (TLS 1.3 suites are all AEAD and enabled by Node): ECDHE only, GCM or ChaCha20-Poly1305. */
export const MODERN_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

export interface TlsFiles { certFile: string; keyFile: string }

export interface HttpsOptions {
  key: Buffer
  cert: Buffer
  minVersion: 'TLSv1.2' | 'TLSv1.3'
  ciphers: string
  honorCipherOrder: boolean
}

export interface TlsSetup {
  files: TlsFiles
  /** For buildHttp's `https` option. */
  options: HttpsOptions
  /** True when the quickstart certificate was generated on this start. */
  generated: boolean
}

export function httpsOptions(files: TlsFiles, minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2'): HttpsOptions {
  const options = { key: readFileSync(files.keyFile), cert: readFileSync(files.certFile), minVersion, ciphers: MODERN_TLS12_CIPHERS, honorCipherOrder: true }
  createSecureContext(options) // fail at boot, naming the files, not on the first handshake
  return options
}

/**
 * What the listener should use: null for plain HTTP (only when explicitly
 * configured), else the configured files or the generated quickstart certificate.
 */
export function prepareTls(config: Pick<Config, 'dataDir' | 'tls'>, opts: { warn?: (m: string) => void } = {}): TlsSetup | null {
  const { tls } = config
  if (tls.insecureBehindProxy) {
    opts.warn?.('SEALPOST_HTTP_INSECURE_BEHIND_PROXY=true: serving plain HTTP. Only do this behind a TLS-terminating reverse proxy on a private network.')
    return null
  }
  if (tls.certFile && tls.keyFile) {
    const files = { certFile: tls.certFile, keyFile: tls.keyFile }
    return { files, options: withFileNames(files, () => httpsOptions(files, tls.minVersion)), generated: false }
  }
  const { files, created } = ensureSelfSignedCertificate(join(config.dataDir, 'tls'))
  opts.warn?.(`serving HTTPS with a self-signed certificate for localhost (${files.certFile}${created ? ', generated now' : ''}). Clients: curl --cacert ${files.certFile} https://localhost:PORT/... For production set SEALPOST_TLS_CERT_FILE and SEALPOST_TLS_KEY_FILE.`)
  return { files, options: httpsOptions(files, tls.minVersion), generated: created }
}

/** DIR/cert.pem + DIR/key.pem (P-256, 825 days, SAN localhost/127.0.0.1/::1), key mode 0600. Needs the openssl binary. */
export function ensureSelfSignedCertificate(dir: string): { files: TlsFiles; created: boolean } {
  const files = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return { files, created: false }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '825',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-addext', 'extendedKeyUsage=serverAuth', '-keyout', files.keyFile, '-out', files.certFile,
    ], { stdio: 'pipe', env: { ...process.env, OPENSSL_CONF: '/dev/null' }, timeout: 30_000 })
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
    throw new Error(
      `${missing ? 'openssl is not installed, so' : 'openssl failed:'} no self-signed certificate could be generated in ${dir}. ` +
      'Set SEALPOST_TLS_CERT_FILE and SEALPOST_TLS_KEY_FILE, or install openssl, or (behind a TLS-terminating proxy only) SEALPOST_HTTP_INSECURE_BEHIND_PROXY=true.',
      { cause: e },
    )
  }
  return { files, created: true }
}

export interface SecureContextTarget { setSecureContext(options: SecureContextOptions): void }

/**
 * Re-reads the certificate and key when either file changes (watching the
 * folders, so an atomic rename by certbot or a Kubernetes secret update is seen)
 * and swaps them in. A half-written or mismatched pair is reported and the
 * current certificate kept. Returns a function that stops watching.
 */
export function watchCertificate(server: SecureContextTarget, files: TlsFiles, opts: {
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  onReload?: () => void
  onError?: (e: Error) => void
  debounceMs?: number
}): () => void {
  const names = new Set([basename(files.certFile), basename(files.keyFile)])
  let timer: NodeJS.Timeout | undefined
  const reload = () => {
    timer = undefined
    try {
      server.setSecureContext(httpsOptions(files, opts.minVersion))
      opts.onReload?.()
    } catch (e) {
      opts.onError?.(e as Error)
    }
  }
  const watchers: FSWatcher[] = [...new Set([dirname(files.certFile), dirname(files.keyFile)])].map((dir) =>
    watch(dir, (_event, name) => {
      if (name && !names.has(String(name)) && !String(name).startsWith('..')) return
      clearTimeout(timer)
      // Cert and key are usually replaced one after the other: wait for both.
      timer = setTimeout(reload, opts.debounceMs ?? 200)
    }))
  return () => {
    clearTimeout(timer)
    for (const w of watchers) w.close()
  }
}

function withFileNames<T>(files: TlsFiles, f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw new Error(`cannot use SEALPOST_TLS_CERT_FILE=${files.certFile} with SEALPOST_TLS_KEY_FILE=${files.keyFile}: ${(e as Error).message}`, { cause: e })
  }
}
