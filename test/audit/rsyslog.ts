import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', '/usr/bin/rsyslogd'].find((p) => existsSync(p)) ?? null

export interface Rsyslog { port: number; caFile: string; output(): string; stop(): Promise<void> }

/** Throwaway CA and a server certificate for localhost / 127.0.0.1 (openssl CLI). */
function makeCerts(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=sealpost-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem')
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr')
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'server.pem')
}

/**
 * A real rsyslogd with its own config: imtcp over TLS (gtls driver, anonymous
 * client auth, server certificate from a throwaway CA) on an ephemeral loopback
 * port, writing what it parsed to a file: APP-NAME, MSGID, STRUCTURED-DATA, MSG.
 */
export async function startRsyslog(): Promise<Rsyslog> {
  if (!RSYSLOGD) throw new Error('rsyslogd not installed')
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-rsyslog-'))
  makeCerts(dir)
  const out = join(dir, 'received.log')
  const portFile = join(dir, 'port')
  writeFileSync(join(dir, 'rsyslog.conf'), `
global(workDirectory="${dir}" DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="${dir}/ca.pem"
  DefaultNetstreamDriverCertFile="${dir}/server.pem"
  DefaultNetstreamDriverKeyFile="${dir}/server.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="${portFile}")
template(name="fields" type="string" string="%pri% %app-name% %msgid% %structured-data% %msg%\\n")
action(type="omfile" file="${out}" template="fields")
`)
  // rsyslogd closes every inherited descriptor at start; a small limit keeps that quick.
  const child: ChildProcess = spawn('sh', ['-c', `ulimit -n 1024; exec ${RSYSLOGD} -n -f ${dir}/rsyslog.conf -i ${dir}/rsyslogd.pid`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += d })
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = Date.now() + 20_000
    const poll = () => {
      if (existsSync(portFile) && readFileSync(portFile, 'utf8').trim()) return resolve(Number(readFileSync(portFile, 'utf8')))
      if (child.exitCode !== null) return reject(new Error(`rsyslogd exited: ${stderr}`))
      if (Date.now() > deadline) return reject(new Error(`rsyslogd did not start: ${stderr}`))
      setTimeout(poll, 50)
    }
    poll()
  })
  return {
    port,
    caFile: join(dir, 'ca.pem'),
    output: () => (existsSync(out) ? readFileSync(out, 'utf8') : ''),
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM') })
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits for an external process to write what we expect (I/O, not time-based logic). */
export async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the receiver')
    await new Promise((r) => setTimeout(r, 50))
  }
}
