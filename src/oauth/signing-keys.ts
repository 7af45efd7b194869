import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import type { Clock } from '../core/clock.ts'
import { MINUTE, DAY } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { AtRest } from './at-rest.ts'
import { deleteRemovableKeys, insertSigningKey, listSigningKeys, setSigningKeyState } from './signing-key-store.ts'

export const SIGNING_ALG = 'ES256'

export interface KeyRingPolicy {
  /** A new key is published this long before it may sign (verifiers and JWKS caches pick it up first). */
  publishLeadMs: number
  /** A retired key stays published this long: the longest lifetime of anything it signed, plus skew. */
  retainMs: number
  /** Automatic rotation age of the active key. */
  rotateAfterMs: number
}

export const DEFAULT_KEY_POLICY: KeyRingPolicy = { publishLeadMs: 15 * MINUTE, retainMs: 15 * MINUTE, rotateAfterMs: 30 * DAY }

export interface LoadedKeys {
  activeKid: string
  /** Private JWKs for the provider, active key first (oidc-provider signs ID tokens with the first match). */
  privateJwks: JWK[]
  /** What the JWKS endpoint publishes and the resource server trusts: active, next and retired keys. */
  publicJwks: JWK[]
  /** Changes whenever the published set or the active key changes. */
  fingerprint: string
}

/**
 * The signing key ring: `next` (published, not signing) → `active` (signing) →
 * `retired` (published until every token it signed has expired) → removed.
 * Private keys are sealed at rest. Rotation is a state change in the database,
 * so every process converges on it when it reloads.
 */
export function createKeyRing(deps: { db: Db; clock: Clock; atRest: AtRest; policy?: KeyRingPolicy }) {
  const { db, clock, atRest } = deps
  const policy = deps.policy ?? DEFAULT_KEY_POLICY
  const now = () => clock.now().getTime()

  async function addKey(state: 'next' | 'active'): Promise<string> {
    const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
    const jwk = await exportJWK(privateKey)
    const kid = await calculateJwkThumbprint(jwk)
    const { d: _d, ...pub } = jwk
    const at = now()
    await insertSigningKey(db, {
      kid, alg: SIGNING_ALG, state,
      public_jwk: JSON.stringify({ ...pub, kid, alg: SIGNING_ALG, use: 'sig' }),
      private_jwk: await atRest.seal('oauth_signing_keys', 'private_jwk', kid, JSON.stringify({ ...jwk, kid, alg: SIGNING_ALG, use: 'sig' })),
      created_at: at, activated_at: state === 'active' ? at : null, retired_at: null, remove_after: null,
    })
    return kid
  }

  /**
   * First start: one active key and one published successor. Concurrent calls in this process (the
   * upkeep timer and a request both loading the ring) share one run: otherwise each would see an empty
   * ring and add its own pair. Two processes starting on an empty database at the same instant can
   * still both add keys (no cross-process lock here; a unique index per state would be the fix).
   */
  let ensuring: Promise<void> | null = null
  function ensure(): Promise<void> {
    ensuring ??= (async () => {
      const rows = await listSigningKeys(db)
      if (!rows.some((r) => r.state === 'active')) await addKey('active')
      if (!rows.some((r) => r.state === 'next')) await addKey('next')
    })().finally(() => { ensuring = null })
    return ensuring
  }

  /**
   * Promotes the published `next` key to `active`, retires the old active key and
   * publishes a fresh `next`. Refused while `next` has been published for less than
   * the lead time (verifiers elsewhere may not have it yet) unless `force`.
   */
  async function rotate(opts: { force?: boolean } = {}): Promise<{ activeKid: string; retiredKid: string | null; nextKid: string }> {
    await ensure()
    const rows = await listSigningKeys(db)
    const next = rows.filter((r) => r.state === 'next').at(-1)!
    const active = rows.find((r) => r.state === 'active') ?? null
    const t = now()
    if (!opts.force && next.created_at + policy.publishLeadMs > t) {
      throw new Error(`the next key was published ${Math.round((t - next.created_at) / 1000)}s ago; it may sign after ${policy.publishLeadMs / 1000}s (or force)`)
    }
    if (active) await setSigningKeyState(db, active.kid, 'active', { state: 'retired', retired_at: t, remove_after: t + policy.retainMs })
    if (!(await setSigningKeyState(db, next.kid, 'next', { state: 'active', activated_at: t }))) {
      throw new Error('another process rotated the keys at the same time; reload and retry')
    }
    const nextKid = await addKey('next')
    return { activeKid: next.kid, retiredKid: active?.kid ?? null, nextKid }
  }

  async function rotateIfDue(): Promise<boolean> {
    const rows = await listSigningKeys(db)
    const active = rows.find((r) => r.state === 'active')
    const next = rows.find((r) => r.state === 'next')
    const t = now()
    if (!active || !next || (active.activated_at ?? active.created_at) + policy.rotateAfterMs > t) return false
    if (next.created_at + policy.publishLeadMs > t) return false
    await rotate()
    return true
  }

  /** Reads the ring; `previous` is returned as is when nothing changed (no decryption on every reload). */
  async function load(previous?: LoadedKeys | null): Promise<LoadedKeys> {
    await deleteRemovableKeys(db, now())
    await ensure()
    const rows = await listSigningKeys(db)
    const order = { active: 0, next: 1, retired: 2 } as const
    rows.sort((a, b) => order[a.state] - order[b.state] || b.created_at - a.created_at)
    const fingerprint = `${rows[0].kid}|${rows.map((r) => r.kid).sort().join(',')}`
    if (previous && previous.fingerprint === fingerprint) return previous
    const privateJwks: JWK[] = []
    for (const r of rows) privateJwks.push(JSON.parse(await atRest.open('oauth_signing_keys', 'private_jwk', r.kid, r.private_jwk)))
    const activeKid = rows[0].kid
    return {
      activeKid, privateJwks,
      publicJwks: rows.map((r) => JSON.parse(r.public_jwk) as JWK),
      fingerprint,
    }
  }

  async function list() {
    return (await listSigningKeys(db)).map((r) => ({
      kid: r.kid, alg: r.alg, state: r.state, createdAt: r.created_at, activatedAt: r.activated_at,
      retiredAt: r.retired_at, removeAfter: r.remove_after,
    }))
  }

  return { ensure, rotate, rotateIfDue, load, list, policy }
}

export type KeyRing = ReturnType<typeof createKeyRing>
