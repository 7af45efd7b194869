import { hash, verify } from '@node-rs/argon2'

/**
 * argon2id with OWASP's recommended minimum (m=19 MiB, t=2, p=1). @node-rs/argon2
 * hashes on the libuv thread pool, so a login never blocks the event loop.
 */
export const ARGON2_OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/** Longer passwords are refused before hashing: argon2 cost must not be driven by the caller. */
export const MAX_PASSWORD_LENGTH = 128

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false
  try {
    return await verify(phc, password)
  } catch {
    return false
  }
}

let dummy: Promise<string> | undefined

/** Computes the dummy hash ahead of the first unknown-email sign-in (which would otherwise pay for it twice). */
export function warmDummyHash(): void {
  dummy ??= hashPassword(crypto.randomUUID())
  dummy.catch(() => { dummy = undefined })
}

/**
 * A hash of a random password with the same parameters: verifying against it makes an
 * unknown email cost the same time as a wrong password (no enumeration by timing).
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID())
  return dummy
}
