import MailComposer from 'nodemailer/lib/mail-composer'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import type { OutboundMessage } from './contract.ts'

export class SigningError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SigningError'
  }
}

/**
 * Builds the RFC 5322 message (Bcc never appears in it) and prepends the DKIM-Signature
 * of its domain key: rsa-sha256 or ed25519-sha256 (RFC 8463), relaxed/relaxed. mailauth
 * signs both key types (nodemailer's own signer is RSA only). Never returns unsigned mail.
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
  const signed = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: msg.dkim.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
    signTime: new Date(at),
    strict: true,
    signatureData: [{ signingDomain: msg.dkim.domainName, selector: msg.dkim.keySelector, privateKey: msg.dkim.privateKey }],
    // mailauth's .d.ts wants top-level signingDomain/selector/privateKey, which its code ignores.
  } as unknown as Parameters<typeof dkimSign>[1])
  if (!signed.signatures || signed.errors?.length) {
    const why = signed.errors?.map((e) => e.err?.message ?? String(e)).join('; ') || 'no signature produced'
    throw new SigningError(`DKIM signing for ${msg.dkim.domainName} failed: ${why}`)
  }
  return Buffer.concat([Buffer.from(signed.signatures, 'latin1'), raw])
}
