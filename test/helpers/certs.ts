import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface KeyPair { certPem: string; keyPem: string }

export interface TestCerts {
  /** A throwaway CA, and its PEM file (what SMTP_CA_FILE points at). */
  caPem: string
  caFile: string
  /** localhost + 127.0.0.1, issued by the CA: what a good sink presents. */
  localhost: KeyPair
  /** Self-signed localhost: nobody trusts it. */
  selfSigned: KeyPair
  /** Issued by the CA, but for another name than the one connected to. */
  wrongName: KeyPair
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir })
}

async function issue(dir: string, name: string, subjectAltName: string): Promise<KeyPair> {
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${subjectAltName}\n`)
  await openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`])
  return { certPem: readFileSync(join(dir, `${name}.crt`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8') }
}

async function generate(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-certs-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  await openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Sealpost Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  const localhost = await issue(dir, 'localhost', 'DNS:localhost,IP:127.0.0.1')
  const wrongName = await issue(dir, 'other.invalid', 'DNS:other.invalid')
  await openssl(dir, ['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
  const selfSigned = { certPem: readFileSync(join(dir, 'self.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'self.key'), 'utf8') }
  return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), caFile: join(dir, 'ca.crt'), localhost, selfSigned, wrongName }
}

let cached: Promise<TestCerts> | undefined

/** Generated once per test process with the openssl CLI; nothing is committed, the folder goes at exit. */
export function testCerts(): Promise<TestCerts> {
  cached ??= generate()
  return cached
}
