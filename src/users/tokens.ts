import { createHash, createHmac, randomBytes } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'

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
export const sameSecret = (a: string, b: string): boolean => safeEqual(a, b)
