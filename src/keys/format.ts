import { randomBytes, createHmac } from 'node:crypto'
import { safeEqual } from '../core/constant-time.ts'
import { crc32 } from 'node:zlib'
import type { Environment } from '../core/principal.ts'

/**
 * API key format (versioned by its prefix, so secret scanners recognise it offline):
 *
 *   sp_live_<lookup:12>_<secret:43><crc:6>
 *
 * lookup: public id used to find the key row (not secret);
 * secret: 32 random bytes in base62; crc: CRC32 of everything before it, base62.
 * Scanner regex: sp_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}
 */
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const KEY_PATTERN = /^sp_(live|test)_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/
export const KEY_PATTERN_GLOBAL = /sp_(?:live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}/g

function base62(bytes: Buffer, width: number): string {
  let n = BigInt('0x' + (bytes.toString('hex') || '0'))
  let out = ''
  while (n > 0n) { out = B62[Number(n % 62n)] + out; n /= 62n }
  return out.padStart(width, '0')
}

const checksum = (body: string) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(crc32(body) >>> 0)
  return base62(b, 6)
}

export interface ParsedKey { environment: Environment; lookupId: string; token: string }

export function generateKey(environment: Environment): { token: string; lookupId: string; last4: string } {
  const lookupId = base62(randomBytes(9), 12).slice(-12)
  const secret = base62(randomBytes(32), 43)
  const body = `sp_${environment}_${lookupId}_${secret}`
  const token = body + checksum(body)
  return { token, lookupId, last4: token.slice(-4) }
}

/** Offline check: shape and checksum. Null for anything that is not a well-formed Sealpost key. */
export function parseKey(token: string): ParsedKey | null {
  const m = KEY_PATTERN.exec(token)
  if (!m) return null
  const body = token.slice(0, -6)
  if (checksum(body) !== m[4]) return null
  return { environment: m[1] as Environment, lookupId: m[2], token }
}

/** Keys are high-entropy: an HMAC under a server pepper is the right hash (no argon2 per request). */
export function hashKey(pepper: string, token: string): string {
  return createHmac('sha256', pepper).update(token).digest('hex')
}

export const sameHash = (a: string, b: string): boolean => safeEqual(a, b)
