import { createHmac, hkdfSync } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'

/**
 * RFC 8058 one-click unsubscribe links: `<base64url(orgId.messageId)>.<mac>`,
 * MAC = HMAC-SHA256 (first 16 bytes) under a key derived from the server pepper,
 * so links cannot be forged or pointed at another message.
 */
export function createUnsubscribeTokens(pepper: string) {
  const key = Buffer.from(hkdfSync('sha256', pepper, 'sealpost', 'unsubscribe-link-v1', 32))
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest().subarray(0, 16)

  return {
    sign(orgId: string, messageId: string): string {
      const payload = Buffer.from(`${orgId}.${messageId}`).toString('base64url')
      return `${payload}.${mac(payload).toString('base64url')}`
    },
    verify(token: string): { orgId: string; messageId: string } | null {
      const [payload, sig, extra] = token.split('.')
      if (!payload || !sig || extra !== undefined) return null
      const given = Buffer.from(sig, 'base64url')
      const expected = mac(payload)
      if (!safeEqual(given, expected)) return null
      const [orgId, messageId] = Buffer.from(payload, 'base64url').toString().split('.')
      return orgId && messageId ? { orgId, messageId } : null
    },
  }
}

export type UnsubscribeTokens = ReturnType<typeof createUnsubscribeTokens>
