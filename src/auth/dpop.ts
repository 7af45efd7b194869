import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose'
import { unauthenticated } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import { LruMap } from '../core/lru-map.ts'

const WINDOW_SEC = 60
const TOLERANCE_SEC = 5

/**
 * DPoP proofs at the resource server (RFC 9449 §4.3, §7.1): the `DPoP` header is one
 * `dpop+jwt` signed (ES256/EdDSA) by the public key it embeds; `htm`/`htu` name this
 * request (query and fragment ignored), `iat` is within ±60 s, `ath` is the SHA-256 of the
 * access token, the key's thumbprint is the token's `cnf.jkt`, and the `jti` is new.
 *
 * Replay: jtis are remembered in memory, per process, until their proof is too old to pass
 * anyway (bounded LRU). A proof replayed to another process, or after 100 000 newer proofs
 * pushed it out, is not caught; it still only works for the same method, URL and token for a minute.
 */
export function createDPoPVerifier(deps: { clock: Clock; maxRemembered?: number }) {
  const seen = new LruMap<string, number>(deps.maxRemembered ?? 100_000)
  return {
    async verify(proof: string | string[] | undefined, expect: { method: string; url: string; accessToken: string; jkt: string }): Promise<void> {
      if (typeof proof !== 'string' || proof === '') throw unauthenticated('dpop_proof_missing')
      const now = deps.clock.now()
      let checked: Awaited<ReturnType<typeof jwtVerify>>
      try {
        checked = await jwtVerify(proof, EmbeddedJWK, {
          typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA'], currentDate: now, maxTokenAge: WINDOW_SEC,
          clockTolerance: TOLERANCE_SEC, requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
        })
      } catch (e) {
        throw unauthenticated(`dpop_proof_invalid:${(e as { code?: string }).code ?? 'error'}`)
      }
      const { payload, protectedHeader } = checked
      if (payload.htm !== expect.method) throw unauthenticated('dpop_htm_mismatch')
      if (!sameResource(payload.htu, expect.url)) throw unauthenticated('dpop_htu_mismatch')
      if (payload.ath !== createHash('sha256').update(expect.accessToken).digest('base64url')) throw unauthenticated('dpop_ath_mismatch')
      if (await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256') !== expect.jkt) throw unauthenticated('dpop_key_mismatch')
      const id = `${expect.jkt}:${String(payload.jti)}`
      const until = seen.get(id)
      if (until !== undefined && until > now.getTime()) throw unauthenticated('dpop_proof_replayed')
      seen.set(id, (payload.iat! + WINDOW_SEC + 2 * TOLERANCE_SEC) * 1000)
    },
  }
}

export type DPoPVerifier = ReturnType<typeof createDPoPVerifier>

function sameResource(htu: unknown, expected: string): boolean {
  try {
    const a = new URL(String(htu)), b = new URL(expected)
    return a.origin === b.origin && a.pathname === b.pathname
  } catch {
    return false
  }
}
