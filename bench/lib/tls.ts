import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TlsFiles { keyFile: string; certFile: string; key: string; cert: string }

/** A throwaway self-signed certificate for 127.0.0.1, also used as the CA that trusts it. */
export function selfSignedCert(dir: string): TlsFiles {
  const keyFile = join(dir, 'sink-key.pem')
  const certFile = join(dir, 'sink-cert.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' })
  return { keyFile, certFile, key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') }
}
