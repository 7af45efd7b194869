/**
 * KEKs inside an HSM, through PKCS#11 (graphene-pk11 over pkcs11js). Each KEK
 * version is a non-extractable, sensitive AES-256 token object labelled
 * `<keyLabel>-<n>`; wrapping is CKM_AES_GCM inside the token, so the KEK never
 * enters this process. Tested against SoftHSM2.
 *
 * pkcs11js calls are synchronous: they run only when a DEK is created, first
 * used by this process, or re-wrapped, never per request.
 */
import { randomBytes } from 'node:crypto'
import * as graphene from 'graphene-pk11'
import type { KeyProvider } from './key-provider.ts'
import { CryptoError } from './errors.ts'

export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so */
  library: string
  tokenLabel: string
  pin: string
  /** Label prefix of the KEK objects. */
  keyLabel: string
}

/**
 * C_Initialize/C_Finalize are per process, not per handle: finalizing one
 * handle would kill every other session on the same module. Share one loaded
 * module per library path and finalize it when the last user releases it.
 */
const loaded = new Map<string, { mod: graphene.Module; users: number }>()

export function acquirePkcs11Module(library: string): graphene.Module {
  let entry = loaded.get(library)
  if (!entry) {
    const mod = graphene.Module.load(library, 'sealpost')
    mod.initialize()
    entry = { mod, users: 0 }
    loaded.set(library, entry)
  }
  entry.users++
  return entry.mod
}

export function releasePkcs11Module(library: string): void {
  const entry = loaded.get(library)
  if (!entry || --entry.users > 0) return
  loaded.delete(library)
  entry.mod.finalize()
}

const PREFIX = 'pkcs11-'
const CKR_USER_ALREADY_LOGGED_IN = 0x100
const IV = 12
const TAG = 16

export class Pkcs11KeyProvider implements KeyProvider {
  readonly name = 'pkcs11'
  readonly #library: string
  readonly #session: graphene.Session
  readonly #label: string
  readonly #keys = new Map<number, graphene.SecretKey>()

  private constructor(library: string, session: graphene.Session, label: string) {
    this.#library = library
    this.#session = session
    this.#label = label
  }

  /** Logs into the token and creates KEK version 1 if the token holds none yet. */
  static async open(opts: Pkcs11Options): Promise<Pkcs11KeyProvider> {
    let mod: graphene.Module
    try {
      mod = acquirePkcs11Module(opts.library)
    } catch (e) {
      throw new CryptoError('provider_error', `cannot load PKCS#11 module ${opts.library}`, { cause: e })
    }
    try {
      const slots = mod.getSlots(true)
      let slot: graphene.Slot | undefined
      for (let i = 0; i < slots.length; i++) {
        if (slots.items(i).getToken().label.trim() === opts.tokenLabel) slot = slots.items(i)
      }
      if (!slot) throw new CryptoError('provider_error', `no PKCS#11 token labelled "${opts.tokenLabel}"`)
      const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION)
      try {
        session.login(opts.pin, graphene.UserType.USER)
      } catch (e) {
        // Login state is per process and token: a second provider on the same token is already in.
        if ((e as { code?: number }).code !== CKR_USER_ALREADY_LOGGED_IN) {
          session.close()
          throw new CryptoError('provider_error', 'PKCS#11 login failed', { cause: e })
        }
      }
      const p = new Pkcs11KeyProvider(opts.library, session, opts.keyLabel)
      if (p.#scan().length === 0) await p.addVersion()
      return p
    } catch (e) {
      releasePkcs11Module(opts.library)
      throw e
    }
  }

  async currentVersion(): Promise<string> {
    const all = this.#scan()
    if (all.length === 0) throw new CryptoError('kek_unavailable', 'no KEK in the token')
    return PREFIX + all[all.length - 1]
  }

  async wrap(version: string, dek: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.#key(version)
    const iv = randomBytes(IV)
    try {
      const alg = { name: 'AES_GCM', params: new graphene.AesGcmParams(iv, aad, TAG * 8) }
      const out = this.#session.createCipher(alg, key).once(dek, Buffer.alloc(dek.length + TAG))
      return Buffer.concat([iv, out])
    } catch (e) {
      throw new CryptoError('provider_error', 'PKCS#11 wrap failed', { cause: e })
    }
  }

  async unwrap(version: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.#key(version)
    if (wrapped.length < IV + TAG) throw new CryptoError('dek_unwrap_failed')
    try {
      const alg = { name: 'AES_GCM', params: new graphene.AesGcmParams(wrapped.subarray(0, IV), aad, TAG * 8) }
      const body = wrapped.subarray(IV)
      return Buffer.from(this.#session.createDecipher(alg, key).once(body, Buffer.alloc(body.length)))
    } catch (e) {
      // CKR_ENCRYPTED_DATA_INVALID / CKR_AAD mismatch: the token does not say which.
      throw new CryptoError('dek_unwrap_failed', undefined, { cause: e })
    }
  }

  async addVersion(): Promise<string> {
    const all = this.#scan()
    const next = (all.length ? all[all.length - 1] : 0) + 1
    this.#session.generateKey(graphene.KeyGenMechanism.AES, {
      class: graphene.ObjectClass.SECRET_KEY,
      keyType: graphene.KeyType.AES,
      label: `${this.#label}-${next}`,
      id: Buffer.from(`${this.#label}-${next}`),
      valueLen: 32,
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      encrypt: true,
      decrypt: true,
      wrap: false,
      unwrap: false,
    })
    return PREFIX + next
  }

  async destroyVersion(version: string): Promise<void> {
    const n = parseVersion(version)
    const all = this.#scan()
    if (n === all[all.length - 1]) throw new CryptoError('kek_readonly', 'refusing to destroy the current KEK version')
    this.#session.destroy({ class: graphene.ObjectClass.SECRET_KEY, label: `${this.#label}-${n}` })
    this.#keys.delete(n)
  }

  async listVersions(): Promise<string[]> {
    return this.#scan().map((n) => PREFIX + n)
  }

  async close(): Promise<void> {
    // No C_Logout: it would log out every session of this process on the token; the last release finalizes.
    this.#session.close()
    releasePkcs11Module(this.#library)
  }

  /** Version numbers present in the token, ascending (another process may have added one). */
  #scan(): number[] {
    const found = this.#session.find({ class: graphene.ObjectClass.SECRET_KEY })
    const re = new RegExp(`^${this.#label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`)
    const out: number[] = []
    for (let i = 0; i < found.length; i++) {
      const m = re.exec(found.items(i).getAttribute('label') as string)
      if (m) out.push(Number(m[1]))
    }
    return out.sort((a, b) => a - b)
  }

  #key(version: string): graphene.SecretKey {
    const n = parseVersion(version)
    let key = this.#keys.get(n)
    if (!key) {
      const found = this.#session.find({ class: graphene.ObjectClass.SECRET_KEY, label: `${this.#label}-${n}` })
      if (found.length === 0) throw new CryptoError('kek_unavailable', version)
      key = found.items(0).toType<graphene.SecretKey>()
      this.#keys.set(n, key)
    }
    return key
  }
}

function parseVersion(version: string): number {
  const n = Number(version.slice(PREFIX.length))
  if (!version.startsWith(PREFIX) || !Number.isSafeInteger(n)) throw new CryptoError('kek_unavailable', version)
  return n
}
