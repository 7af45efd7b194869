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

const PREFIX = 'pkcs11-'
const IV = 12
const TAG = 16

export class Pkcs11KeyProvider implements KeyProvider {
  readonly name = 'pkcs11'
  readonly #mod: graphene.Module
  readonly #session: graphene.Session
  readonly #label: string
  readonly #keys = new Map<number, graphene.SecretKey>()

  private constructor(mod: graphene.Module, session: graphene.Session, label: string) {
    this.#mod = mod
    this.#session = session
    this.#label = label
  }

  /** Logs into the token and creates KEK version 1 if the token holds none yet. */
  static async open(opts: Pkcs11Options): Promise<Pkcs11KeyProvider> {
    let mod: graphene.Module
    try {
      mod = graphene.Module.load(opts.library, 'sealpost')
      mod.initialize()
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
        session.close()
        throw new CryptoError('provider_error', 'PKCS#11 login failed', { cause: e })
      }
      const p = new Pkcs11KeyProvider(mod, session, opts.keyLabel)
      if (p.#scan().length === 0) await p.addVersion()
      return p
    } catch (e) {
      mod.finalize()
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
    try { this.#session.logout() } catch { /* already logged out */ }
    this.#session.close()
    this.#mod.finalize()
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
