import { createHmac, hkdfSync } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'

/** What a valid link points at. `recipient` is null for links minted before per-recipient links (one per message). */
export interface UnsubscribeTarget { orgId: string; messageId: string; recipient: number | null }

const INDEX = /^(0|[1-9][0-9]{0,5})$/

/**
 * RFC 8058 one-click unsubscribe links: `<base64url(orgId.messageId.recipientIndex)>.<mac>`,
 * MAC = HMAC-SHA256 (first 16 bytes) under a key derived from the server pepper, so a link
 * cannot be forged, pointed at another message or at another recipient of the same message
 * (the index is the recipient's position in to, cc, bcc). Older links carry no index
 * (`orgId.messageId`); the MAC covers the whole payload, so one cannot become the other.
 */
export function createUnsubscribeTokens(pepper: string) {
  const key = Buffer.from(hkdfSync('sha256', pepper, 'sealpost', 'unsubscribe-link-v1', 32))
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest().subarray(0, 16)

  return {
    sign(orgId: string, messageId: string, recipient: number): string {
      const payload = Buffer.from(`${orgId}.${messageId}.${recipient}`).toString('base64url')
      return `${payload}.${mac(payload).toString('base64url')}`
    },
    verify(token: string): UnsubscribeTarget | null {
      const [payload, sig, extra] = token.split('.')
      if (!payload || !sig || extra !== undefined) return null
      const given = Buffer.from(sig, 'base64url')
      const expected = mac(payload)
      if (!safeEqual(given, expected)) return null
      const [orgId, messageId, recipient, more] = Buffer.from(payload, 'base64url').toString().split('.')
      if (!orgId || !messageId || more !== undefined) return null
      if (recipient === undefined) return { orgId, messageId, recipient: null }
      return INDEX.test(recipient) ? { orgId, messageId, recipient: Number(recipient) } : null
    },
  }
}

export type UnsubscribeTokens = ReturnType<typeof createUnsubscribeTokens>
