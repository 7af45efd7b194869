/**
 * The local keyring file (DATA_DIR/master.key): JSON with one 256-bit KEK per
 * version, mode 0600. Start-up refuses a keyfile readable by group or others,
 * as ssh does for private keys.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { privateFileProblem, writePrivateFile } from '../core/private-file.ts'
import { CryptoError } from './errors.ts'

export interface KeyringEntry { version: number; key: Buffer }

const FORMAT = 'sealpost-keyring-1'
export const KEYFILE_NAME = 'master.key'

export const keyfilePath = (dataDir: string) => join(dataDir, KEYFILE_NAME)

/** Creates DATA_DIR/master.key (mode 0600) with one fresh KEK when absent. Used by `init` and first start. */
export function ensureLocalKeyfile(dataDir: string): { path: string; created: boolean } {
  const path = keyfilePath(dataDir)
  if (existsSync(path)) {
    readKeyfile(path)
    return { path, created: false }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeKeyfile(path, [{ version: 1, key: randomBytes(32) }])
  return { path, created: true }
}

export function readKeyfile(path: string): KeyringEntry[] {
  const problem = privateFileProblem(path)
  if (problem) throw new CryptoError('keyfile_insecure', problem)
  let parsed: any
  try { parsed = JSON.parse(readFileSync(path, 'utf8')) } catch (e) { throw new CryptoError('keyfile_invalid', path, { cause: e }) }
  if (parsed?.format !== FORMAT || !Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new CryptoError('keyfile_invalid', path)
  }
  return parsed.keys.map((k: any) => toEntry(k?.version, k?.key, path))
}

/** Atomic replace (temp file with 0600 from creation, fsync, rename), so a crash never leaves half a keyring. */
export function writeKeyfile(path: string, entries: KeyringEntry[]): void {
  const body = JSON.stringify({
    format: FORMAT,
    keys: entries.map((e) => ({ version: e.version, key: e.key.toString('base64') })),
  }, null, 2)
  writePrivateFile(path, body)
}

/** `SEALPOST_MASTER_KEY`: one key (version 1), or a keyring `2:<key>,1:<key>`; base64 or hex, 32 bytes each. */
export function parseMasterKeyEnv(raw: string): KeyringEntry[] {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean)
  if (parts.length === 1 && !parts[0].includes(':')) return [toEntry(1, parts[0], 'SEALPOST_MASTER_KEY')]
  return parts.map((p) => {
    const i = p.indexOf(':')
    return toEntry(Number(p.slice(0, i)), p.slice(i + 1), 'SEALPOST_MASTER_KEY')
  })
}

function toEntry(version: unknown, encoded: unknown, where: string): KeyringEntry {
  if (!Number.isSafeInteger(version) || (version as number) < 1 || typeof encoded !== 'string') {
    throw new CryptoError('keyfile_invalid', `${where}: each key needs a positive integer version`)
  }
  const key = /^[0-9a-fA-F]{64}$/.test(encoded) ? Buffer.from(encoded, 'hex') : Buffer.from(encoded, 'base64')
  if (key.length !== 32) throw new CryptoError('keyfile_invalid', `${where}: version ${version} is not a 256-bit key`)
  return { version: version as number, key }
}
