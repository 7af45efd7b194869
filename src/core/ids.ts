import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz'
const RAND_BITS = 80n

let lastTime = -1
let lastRand = 0n

function base32(n: bigint, width: number): string {
  let out = ''
  for (let i = 0; i < width; i++) {
    out = CROCKFORD[Number(n & 31n)] + out
    n >>= 5n
  }
  return out
}

/**
 * Prefixed, time-ordered ids (`msg_01j…`): 10 chars of millisecond time then 16
 * random chars, Crockford base32. Monotonic within a process (ids made in the
 * same millisecond increment the random part, as monotonic ULIDs do), so ids
 * sort in creation order and work as pagination cursors.
 */
export function newId(prefix: string, at: number = Date.now()): string {
  let time = Math.max(0, Math.floor(at))
  let rand: bigint
  if (time <= lastTime) {
    time = lastTime
    rand = (lastRand + 1n) & ((1n << RAND_BITS) - 1n)
  } else {
    rand = BigInt('0x' + randomBytes(10).toString('hex'))
  }
  lastTime = time
  lastRand = rand
  return `${prefix}_${base32(BigInt(time), 10)}${base32(rand, 16)}`
}

export const ID_PATTERN = '^[a-z]{2,8}_[0-9a-hjkmnp-tv-z]{26}$'
