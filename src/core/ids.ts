import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz'

/**
 * Prefixed, time-ordered ids (`msg_01j…`): 10 chars of millisecond time then 16
 * random chars, Crockford base32, so ids sort by creation and work as cursors.
 */
export function newId(prefix: string, at: number = Date.now()): string {
  let time = ''
  let t = at
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const rnd = randomBytes(10)
  let rand = ''
  for (let i = 0; i < 16; i++) {
    // 10 bytes = 80 bits = 16 base32 digits
    const bit = i * 5
    const byte = bit >> 3
    const shift = bit & 7
    const word = ((rnd[byte] << 8) | (rnd[byte + 1] ?? 0)) >> (11 - shift)
    rand += CROCKFORD[word & 31]
  }
  return `${prefix}_${time}${rand}`
}

export const ID_PATTERN = '^[a-z]{2,8}_[0-9a-hjkmnp-tv-z]{26}$'
