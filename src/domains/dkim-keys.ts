import { generateKeyPair, createPublicKey } from 'node:crypto'
import { promisify } from 'node:util'

const generate = promisify(generateKeyPair)

export type DkimAlgorithm = 'rsa' | 'ed25519'

/** A fresh DKIM key pair: PKCS#8 PEM private key and the `p=` value of the TXT record. */
export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<{ privateKeyPem: string; publicKeyB64: string }> {
  if (algorithm === 'ed25519') {
    const { privateKey, publicKey } = await generate('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    })
    // RFC 8463: p= is the raw 32-byte key, i.e. the SPKI without its 12-byte header.
    return { privateKeyPem: privateKey, publicKeyB64: (publicKey as Buffer).subarray(12).toString('base64') }
  }
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  })
  return { privateKeyPem: privateKey, publicKeyB64: (publicKey as Buffer).toString('base64') }
}

export function publicKeyFromPrivate(pem: string): string {
  return (createPublicKey(pem).export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')
}
