import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, verify, createHash, type KeyObject } from 'node:crypto'
import { readFileSync, chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writePrivateFile } from '../core/private-file.ts'
import type { FieldCipher } from '../crypto/cipher.ts'

/**
 * Signs audit checkpoints and retention anchors (Ed25519, node:crypto).
 *
 * @example
 *   const signer = await loadAuditSigner({ dataDir })
 *   const sig = signer.sign(statement)
 *   signer.verify(signer.keyId, statement, sig) // true
 */
export interface AuditVerifier {
  /** False for an unknown key id: only keys in the local keyring are trusted, never keys read from the database. */
  verify(keyId: string, statement: Buffer, signature: string): boolean
}

export interface AuditSigner extends AuditVerifier {
  readonly keyId: string
  sign(statement: Buffer): string
}

interface KeyringFile {
  version: 1
  current: string
  keys: { id: string; publicKey: string; privateKey?: string; sealedPrivateKey?: string }[]
}

export const KEYRING_FILE = 'audit-signing-keys.json'
const SEAL_CONTEXT = { orgId: '_system', table: 'audit_signing_keys', column: 'private_key' }

const keyIdOf = (pub: KeyObject) =>
  'ed25519:' + createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 22)

const writeKeyring = (path: string, ring: KeyringFile) => writePrivateFile(path, JSON.stringify(ring, null, 2))

/**
 * Loads (or creates) the keyring under the data dir, mode 0600. With a
 * FieldCipher the private key is stored sealed by it (envelope encryption under
 * the key provider); without one it is stored as PKCS#8 PEM protected only by
 * file permissions, and `sealed` is false so the caller can warn at boot.
 */
export async function loadAuditSigner(opts: { dataDir: string; cipher?: FieldCipher | null }): Promise<AuditSigner & { sealed: boolean }> {
  mkdirSync(opts.dataDir, { recursive: true })
  const path = join(opts.dataDir, KEYRING_FILE)
  let ring: KeyringFile
  if (existsSync(path)) {
    ring = JSON.parse(readFileSync(path, 'utf8')) as KeyringFile
    chmodSync(path, 0o600)
  } else {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const id = keyIdOf(publicKey)
    ring = {
      version: 1, current: id,
      keys: [{ id, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }],
    }
  }
  const current = ring.keys.find((k) => k.id === ring.current)
  if (!current) throw new Error(`${path}: current key ${ring.current} is missing`)

  let pem: string
  if (current.sealedPrivateKey) {
    if (!opts.cipher) throw new Error(`${path}: the audit signing key is sealed; a FieldCipher is needed to open it`)
    pem = await opts.cipher.decryptText({ ...SEAL_CONTEXT, rowId: current.id }, current.sealedPrivateKey)
  } else {
    pem = current.privateKey!
    if (opts.cipher) {
      // Seal a plaintext key as soon as a cipher is available.
      current.sealedPrivateKey = await opts.cipher.encrypt({ ...SEAL_CONTEXT, rowId: current.id }, pem)
      delete current.privateKey
    }
  }
  writeKeyring(path, ring)

  const privateKey = createPrivateKey(pem)
  return {
    ...verifierOf(ring),
    keyId: current.id,
    sealed: Boolean(current.sealedPrivateKey),
    sign: (statement) => sign(null, statement, privateKey).toString('base64url'),
  }
}

/** Verification needs only the public keys: `audit verify` never opens the private key. */
export function loadAuditVerifier(dataDir: string): AuditVerifier {
  const path = join(dataDir, KEYRING_FILE)
  if (!existsSync(path)) throw new Error(`${path} not found: no audit signing key was ever created in this data directory`)
  return verifierOf(JSON.parse(readFileSync(path, 'utf8')) as KeyringFile)
}

function verifierOf(ring: KeyringFile): AuditVerifier {
  const publics = new Map(ring.keys.map((k) => [k.id, createPublicKey(k.publicKey)]))
  return {
    verify(keyId, statement, signature) {
      const pub = publics.get(keyId)
      if (!pub) return false
      try { return verify(null, statement, pub, Buffer.from(signature, 'base64url')) } catch { return false }
    },
  }
}
