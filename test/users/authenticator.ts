import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { cborEncode } from './cbor.ts'

/**
 * A software WebAuthn authenticator (ES256 / P-256, attestation "none"), built
 * from the spec: it produces exactly what a browser returns from
 * navigator.credentials.create() / .get() serialised with toJSON().
 */
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest()

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_AT = 0x40

export interface SoftAuthenticator {
  credentialId: Buffer
  signCount: number
  create(options: { challenge: string; rp: { id?: string } }, origin: string): Record<string, any>
  get(options: { challenge: string; rpId?: string }, origin: string, opts?: { rpId?: string; type?: string }): Record<string, any>
}

export function createSoftAuthenticator(): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const credentialId = randomBytes(16)
  const self = {
    credentialId,
    signCount: 0,
    create(options: { challenge: string; rp: { id?: string } }, origin: string) {
      const rpId = options.rp.id!
      const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }))
      const authData = Buffer.concat([
        sha256(rpId), Buffer.from([FLAG_UP | FLAG_UV | FLAG_AT]), u32(self.signCount),
        Buffer.alloc(16), u16(credentialId.length), credentialId, coseKey(publicKey),
      ])
      const attestationObject = cborEncode({ fmt: 'none', attStmt: {}, authData })
      return {
        id: b64u(credentialId), rawId: b64u(credentialId), type: 'public-key', clientExtensionResults: {},
        authenticatorAttachment: 'platform',
        response: { clientDataJSON: b64u(clientData), attestationObject: b64u(attestationObject), transports: ['internal'] },
      }
    },
    get(options: { challenge: string; rpId?: string }, origin: string, opts: { rpId?: string; type?: string } = {}) {
      self.signCount += 1
      const rpId = opts.rpId ?? options.rpId!
      const clientData = Buffer.from(JSON.stringify({ type: opts.type ?? 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }))
      const authData = Buffer.concat([sha256(rpId), Buffer.from([FLAG_UP | FLAG_UV]), u32(self.signCount)])
      // ECDSA over authenticatorData || SHA-256(clientDataJSON), DER-encoded (what WebAuthn specifies for ES256).
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), privateKey as KeyObject)
      return {
        id: b64u(credentialId), rawId: b64u(credentialId), type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature) },
      }
    },
  }
  return self
}

function u16(n: number) { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
function u32(n: number) { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }

/** COSE_Key for an EC2 P-256 public key (RFC 9053): kty 2, alg -7 (ES256), crv 1, x, y. */
function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' })
  return cborEncode(new Map<number, any>([
    [1, 2], [3, -7], [-1, 1],
    [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')],
  ]))
}
