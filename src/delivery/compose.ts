import { createPrivateKey, type KeyObject } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import MailComposer from 'nodemailer/lib/mail-composer'
import DKIM from 'nodemailer/lib/dkim'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import { LruMap } from '../core/lru-map.ts'
import type { OutboundMessage } from './contract.ts'

export class SigningError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SigningError'
  }
}

/**
 * Parsed RSA keys, by PEM. Parsing a PEM and signing with a fresh KeyObject costs about
 * as much again as signing with a parsed one (OpenSSL redoes its per-key setup), so
 * each process (signing thread) keeps the keys it has used, least recently used out first.
 */
const rsaKeys = new LruMap<string, KeyObject>(1000)

function rsaKey(pem: string): KeyObject {
  return rsaKeys.getOrCreate(pem, () => {
    const key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`the key is ${key.asymmetricKeyType}, not rsa`)
    return key
  })
}

/**
 * The header fields the signature covers: the signers' default list (RFC 6376 5.4.1), plus
 * List-Unsubscribe-Post, which RFC 8058 section 4 requires under the signature with
 * List-Unsubscribe (receivers ignore a one-click header a signature does not cover).
 */
export const SIGNED_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:' +
  'Content-Transfer-Encoding:Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:' +
  'Resent-Cc:Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Unsubscribe-Post:' +
  'List-Subscribe:List-Post:List-Owner:List-Archive'

/** rsa-sha256 (relaxed/relaxed) with nodemailer's signer, which takes a parsed KeyObject. */
async function signRsa(raw: Buffer, dkim: OutboundMessage['dkim']): Promise<Buffer> {
  const signer = new DKIM({ domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: rsaKey(dkim.privateKey), headerFieldNames: SIGNED_HEADERS })
  const signed = await buffer(signer.sign(raw))
  // nodemailer leaves the message unsigned if signing fails: check instead of trusting it.
  if (!signed.subarray(0, 32).toString('latin1').startsWith('DKIM-Signature:')) {
    throw new SigningError(`DKIM signing for ${dkim.domainName} failed: no signature produced`)
  }
  return signed
}

/** ed25519-sha256 (RFC 8463) with mailauth: nodemailer's signer is RSA only. */
async function signEd25519(raw: Buffer, dkim: OutboundMessage['dkim'], at: number): Promise<Buffer> {
  const signed = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'ed25519-sha256',
    signTime: new Date(at),
    strict: true,
    headerList: SIGNED_HEADERS,
    signatureData: [{ signingDomain: dkim.domainName, selector: dkim.keySelector, privateKey: dkim.privateKey }],
    // mailauth's .d.ts wants top-level signingDomain/selector/privateKey, which its code ignores.
  } as unknown as Parameters<typeof dkimSign>[1])
  if (!signed.signatures || signed.errors?.length) {
    const why = signed.errors?.map((e) => e.err?.message ?? String(e)).join('; ') || 'no signature produced'
    throw new SigningError(`DKIM signing for ${dkim.domainName} failed: ${why}`)
  }
  return Buffer.concat([Buffer.from(signed.signatures, 'latin1'), raw])
}

/**
 * Builds the RFC 5322 message (Bcc never appears in it) and prepends the DKIM-Signature
 * of its domain key: rsa-sha256 or ed25519-sha256, relaxed/relaxed. Throws rather than
 * ever returning unsigned mail.
 */
export async function composeSigned(msg: OutboundMessage, at: number): Promise<Buffer> {
  const raw = await new MailComposer({
    from: msg.from,
    to: msg.to,
    cc: msg.cc,
    replyTo: msg.replyTo.length ? msg.replyTo : undefined,
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    headers: msg.headers,
    attachments: msg.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    messageId: msg.messageIdHeader,
    date: new Date(at),
  }).compile().build()
  try {
    return msg.dkim.algorithm === 'ed25519' ? await signEd25519(raw, msg.dkim, at) : await signRsa(raw, msg.dkim)
  } catch (err) {
    if (err instanceof SigningError) throw err
    // Names the domain, never the key material.
    throw new SigningError(`DKIM signing for ${msg.dkim.domainName} failed: ${(err as Error).message}`, { cause: err })
  }
}
