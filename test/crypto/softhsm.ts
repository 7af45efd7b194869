import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const SOFTHSM_LIBRARY = process.env.SOFTHSM2_LIBRARY ?? '/usr/lib/softhsm/libsofthsm2.so'

/** Skip only on a laptop without SoftHSM2; under CI=true its absence fails the test. */
export function softhsmSkip(): string | false {
  const has = spawnSync('softhsm2-util', ['--version']).status === 0 && existsSync(SOFTHSM_LIBRARY)
  if (has) return false
  if (process.env.CI === 'true') throw new Error('CI=true but SoftHSM2 (softhsm2-util, libsofthsm2.so) is not installed')
  return 'SoftHSM2 not installed (apt-get install softhsm2); skipped (mandatory when CI=true)'
}

export interface SoftHsmToken { library: string; tokenLabel: string; pin: string; dir: string; cleanup(): void }

/** A fresh token in a temporary tokendir; SOFTHSM2_CONF points at it for this process. */
export function createSoftHsmToken(label = 'sealpost-test'): SoftHsmToken {
  const dir = mkdtempSync(join(tmpdir(), 'softhsm-'))
  const tokens = join(dir, 'tokens')
  mkdirSync(tokens)
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`)
  process.env.SOFTHSM2_CONF = conf
  const pin = '246810'
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579'], { env: process.env, stdio: 'pipe' })
  return { library: SOFTHSM_LIBRARY, tokenLabel: label, pin, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
