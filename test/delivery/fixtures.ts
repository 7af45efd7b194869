import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { newId } from '../../src/core/ids.ts'
import type { OutboundMessage } from '../../src/delivery/contract.ts'

export interface DkimKey { algorithm: 'rsa' | 'ed25519'; privateKey: string; publicKeyB64: string }

const keys = new Map<string, DkimKey>()

/** A DKIM key pair and the `p=` value its TXT record would publish (generated once per process). */
export function dkimKey(algorithm: 'rsa' | 'ed25519'): DkimKey {
  let k = keys.get(algorithm)
  if (!k) {
    const pair = algorithm === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
    const spki = pair.publicKey.export({ type: 'spki', format: 'der' })
    // Ed25519 records carry the raw 32-byte key (RFC 8463); RSA ones the SPKI.
    const publicKeyB64 = (algorithm === 'ed25519' ? spki.subarray(12) : spki).toString('base64')
    k = { algorithm, privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyB64 }
    keys.set(algorithm, k)
  }
  return k
}

export function outboundMessage(over: Partial<OutboundMessage> & { algorithm?: 'rsa' | 'ed25519' } = {}): OutboundMessage {
  const { algorithm = 'rsa', ...rest } = over
  const id = newId('msg')
  const key = dkimKey(algorithm)
  return {
    id, orgId: 'org_test', environment: 'live',
    from: '"Sealpost Test" <sender@sealpost.test>',
    to: ['"Ann" <ann@example.org>'], cc: [], bcc: [], replyTo: [],
    subject: `Hello ${randomBytes(3).toString('hex')}`,
    text: 'Plain body\nsecond line', html: '<p>HTML body</p>',
    headers: { 'X-Campaign': 'spring' },
    attachments: [{ filename: 'note.txt', contentType: 'text/plain', content: Buffer.from('attached') }],
    messageIdHeader: `<${id}@sealpost.test>`,
    dkim: { domainName: 'sealpost.test', keySelector: algorithm === 'rsa' ? 'sp-rsa' : 'sp-ed', privateKey: key.privateKey, algorithm },
    senderVerified: true,
    ...rest,
  }
}

/** The DKIM TXT record a domain publishes for this key. */
export const dkimRecord = (key: DkimKey) => `v=DKIM1; k=${key.algorithm}; p=${key.publicKeyB64}`

/** mailauth's custom DNS resolver, answering TXT lookups from a fixed table (name → record). */
export function txtResolver(records: Record<string, string>) {
  return async (name: string, type: string) => {
    if (type === 'TXT' && records[name]) return [[records[name]]]
    throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' })
  }
}
