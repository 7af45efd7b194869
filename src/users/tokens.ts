import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256-bit random bearer tokens (sessions, invitations, email verification), base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Tokens are high-entropy, so a plain SHA-256 is the right stored form (no argon2 per request). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function hmacHex(key: string, ...parts: string[]): string {
  return createHmac('sha256', key).update(parts.join('\0')).digest('hex')
}

/** Constant-time equality for strings of possibly different length. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  const len = Math.max(x.length, y.length, 1)
  const xp = Buffer.alloc(len)
  const yp = Buffer.alloc(len)
  x.copy(xp)
  y.copy(yp)
  return timingSafeEqual(xp, yp) && x.length === y.length
}
