import { createHmac, randomBytes } from 'node:crypto'
import { safeEqual } from '../../core/constant-time.ts'

/**
 * Client secrets: 256 random bits with a recognisable prefix (secret scanners),
 * stored as HMAC-SHA256 under the server pepper (high entropy: no argon2 needed).
 */
export const CLIENT_SECRET_PATTERN = /^spcs_[A-Za-z0-9_-]{43}$/

export function generateClientSecret(): { secret: string; last4: string } {
  const secret = `spcs_${randomBytes(32).toString('base64url')}`
  return { secret, last4: secret.slice(-4) }
}

export function hashClientSecret(pepper: string, secret: string): string {
  return createHmac('sha256', pepper).update(`oauth-client-secret:${secret}`).digest('hex')
}

export function clientSecretMatches(pepper: string, presented: string, storedHash: string): boolean {
  return safeEqual(hashClientSecret(pepper, presented), storedHash)
}
