import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Constant-time equality for secrets, tokens, MACs and their hashes, of any length:
 * both sides are hashed to 32 bytes first, so neither the content nor the length
 * of the expected value leaks through timing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
