/**
 * Gives the baseline the very DKIM key Sealpost signs with: opens the
 * installation (environment as for src/main.ts), asks the domain service for
 * the domain's signing key, writes the private key to a 0600 file.
 * Usage: node bench/servers/extract-dkim.ts <orgId> <domain> <outFile>
 * Prints { domainName, keySelector, algorithm }.
 */
import { writeFileSync } from 'node:fs'
import { openRuntime } from '../../src/boot.ts'
import { buildApp } from '../../src/app.ts'

const [orgId, domain, outFile] = process.argv.slice(2)
const rt = await openRuntime({ ...process.env, SEALPOST_LOG_LEVEL: 'silent' }, { createSecrets: false })
const app = await buildApp({ ...rt })
try {
  const key = await app.domains.signingKeyFor(orgId, domain)
  if (!key) throw new Error(`no signing key for ${domain}`)
  writeFileSync(outFile, key.privateKey, { mode: 0o600 })
  process.stdout.write(JSON.stringify({ domainName: key.domainName, keySelector: key.keySelector, algorithm: key.algorithm }) + '\n')
} finally {
  await app.close()
  await rt.storage.close()
}
