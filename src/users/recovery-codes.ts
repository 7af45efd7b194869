import { randomBytes } from 'node:crypto'
import { hmacHex, sameSecret } from './tokens.ts'

/**
 * One-time recovery codes: 10 codes of 80 bits each (`abcd-efgh-jkmn-pqrs`,
 * Crockford base32), stored as HMAC-SHA256 under the server pepper so a database
 * dump alone cannot be brute-forced back to codes.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
export const RECOVERY_CODE_COUNT = 10

export function newRecoveryCode(): string {
  const bytes = randomBytes(16)
  let out = ''
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i] & 31]
  return out.match(/.{4}/g)!.join('-')
}

/** Accepts what people type: any case, with or without dashes and spaces; i/l → 1, o → 0. */
export function normalizeRecoveryCode(input: string): string | null {
  const s = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0')
  return /^[0-9a-hjkmnp-tv-z]{16}$/.test(s) ? s : null
}

export function hashRecoveryCode(pepper: string, userId: string, code: string): string {
  return hmacHex(pepper, 'recovery-code', userId, normalizeRecoveryCode(code) ?? '')
}

/** Index of the stored hash matching `code`, checking every candidate (no early exit). */
export function matchRecoveryCode(pepper: string, userId: string, code: string, hashes: string[]): number {
  if (!normalizeRecoveryCode(code)) return -1
  const h = hashRecoveryCode(pepper, userId, code)
  let found = -1
  hashes.forEach((stored, i) => { if (sameSecret(stored, h) && found < 0) found = i })
  return found
}
