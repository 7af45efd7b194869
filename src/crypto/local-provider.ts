import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import type { KeyProvider } from './key-provider.ts'
import { CryptoError } from './errors.ts'
import { readKeyfile, writeKeyfile, parseMasterKeyEnv, type KeyringEntry } from './keyfile.ts'

const PREFIX = 'local-'
const IV = 12
const TAG = 16

export type LocalKeySource = { kind: 'env'; value: string } | { kind: 'file'; path: string }

/**
 * KEKs held in process memory, from SEALPOST_MASTER_KEY or the 0600 keyfile.
 * With a keyfile, `addVersion` appends to it (another process, e.g. the CLI,
 * may do so: we re-read the file when its mtime changes). With the env var the
 * keyring is read-only: add the new key to the variable and restart instead.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly name = 'local'
  readonly #source: LocalKeySource
  #keys: KeyringEntry[] = []
  #mtimeMs = -1

  constructor(source: LocalKeySource) {
    this.#source = source
    this.#load()
  }

  async currentVersion(): Promise<string> {
    this.#reloadIfChanged()
    return PREFIX + Math.max(...this.#keys.map((k) => k.version))
  }

  async wrap(version: string, dek: Buffer, aad: Buffer): Promise<Buffer> {
    const kek = this.#key(version)
    const iv = randomBytes(IV)
    const c = createCipheriv('aes-256-gcm', kek, iv).setAAD(aad)
    return Buffer.concat([iv, c.update(dek), c.final(), c.getAuthTag()])
  }

  async unwrap(version: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const kek = this.#key(version)
    if (wrapped.length < IV + TAG) throw new CryptoError('dek_unwrap_failed')
    try {
      const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV)).setAAD(aad)
      d.setAuthTag(wrapped.subarray(wrapped.length - TAG))
      return Buffer.concat([d.update(wrapped.subarray(IV, wrapped.length - TAG)), d.final()])
    } catch (e) {
      throw new CryptoError('dek_unwrap_failed', undefined, { cause: e })
    }
  }

  async addVersion(): Promise<string> {
    const path = this.#writablePath()
    this.#load()
    const next = Math.max(...this.#keys.map((k) => k.version)) + 1
    writeKeyfile(path, [...this.#keys, { version: next, key: randomBytes(32) }])
    this.#load()
    return PREFIX + next
  }

  async destroyVersion(version: string): Promise<void> {
    const path = this.#writablePath()
    this.#load()
    const n = parseVersion(version)
    if (this.#keys.length === 1) throw new CryptoError('kek_readonly', 'refusing to destroy the only KEK version')
    if (n === Math.max(...this.#keys.map((k) => k.version))) throw new CryptoError('kek_readonly', 'refusing to destroy the current KEK version')
    writeKeyfile(path, this.#keys.filter((k) => k.version !== n))
    this.#load()
  }

  async listVersions(): Promise<string[]> {
    this.#reloadIfChanged()
    return this.#keys.map((k) => k.version).sort((a, b) => a - b).map((v) => PREFIX + v)
  }

  async close(): Promise<void> {
    for (const k of this.#keys) k.key.fill(0)
    this.#keys = []
  }

  #key(version: string): Buffer {
    const n = parseVersion(version)
    // A stat per wrap/unwrap (rare: DEKs are cached unwrapped) so a version added or destroyed elsewhere is seen.
    this.#reloadIfChanged()
    const entry = this.#keys.find((k) => k.version === n)
    if (!entry) throw new CryptoError('kek_unavailable', version)
    return entry.key
  }

  #writablePath(): string {
    if (this.#source.kind === 'env') {
      throw new CryptoError('kek_readonly', 'SEALPOST_MASTER_KEY is set: add the new key as "2:<new>,1:<old>" on every process and restart, then run `kek rewrap`')
    }
    return this.#source.path
  }

  #reloadIfChanged(): void {
    if (this.#source.kind !== 'file') return
    if (statSync(this.#source.path).mtimeMs !== this.#mtimeMs) this.#load()
  }

  #load(): void {
    if (this.#source.kind === 'env') {
      this.#keys = parseMasterKeyEnv(this.#source.value)
      return
    }
    const mtime = statSync(this.#source.path).mtimeMs
    this.#keys = readKeyfile(this.#source.path)
    this.#mtimeMs = mtime
  }
}

function parseVersion(version: string): number {
  const n = Number(version.slice(PREFIX.length))
  if (!version.startsWith(PREFIX) || !Number.isSafeInteger(n)) throw new CryptoError('kek_unavailable', version)
  return n
}
