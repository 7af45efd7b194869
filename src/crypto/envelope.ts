/**
 * Envelope encryption behind `FieldCipher`:
 * - AES-256-GCM per value, under the owner's current data key (DEK): the
 *   organization's, or the subject's when `ctx.subjectId` is set (crypto-shredding);
 * - DEKs are random 256-bit keys, stored only wrapped by a KEK from the KeyProvider;
 * - unwrapped DEKs stay in memory (LRU), so after the first use an encrypt or
 *   decrypt is pure CPU: no database read, no provider call;
 * - blind indexes: HMAC-SHA256 under a per-organization key derived (HKDF) from a
 *   separate root key, itself stored wrapped like a DEK.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto'
import type { Db } from '../storage/db.ts'
import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { CipherContext, FieldCipher } from './cipher.ts'
import type { KeyProvider } from './key-provider.ts'
import { CryptoError } from './errors.ts'
import { LruMap } from '../core/lru-map.ts'
import { dekAad, encodeCiphertext, fieldAad, IV_BYTES, parseCiphertext } from './format.ts'
import { deleteSubjectDeks, findCurrentDek, findDek, insertDek, retireDek } from './dek-store.ts'
import type { DekRow } from './table.ts'

export interface EnvelopeOptions {
  db: Db
  provider: KeyProvider
  clock: Clock
  /** Unwrapped keys kept in memory (organization + subject keys). */
  cacheSize?: number
  /**
   * How often a cached *current* DEK is re-checked against the database (in the
   * background, the request never waits), so a DEK rotated by another process
   * is picked up. Data-key rotation waits longer than this before deleting an old key.
   */
  currentKeyTtlMs?: number
}

export const DEFAULT_CURRENT_KEY_TTL_MS = 60_000

export interface Envelope extends FieldCipher {
  readonly provider: KeyProvider
  /** Crypto-shredding: destroys every key of the subject; its ciphertexts become unreadable. Returns keys destroyed. */
  shredSubject(orgId: string, subjectId: string): Promise<number>
  /** Starts a new DEK version for an owner (new writes use it; old rows still decrypt until re-encrypted). */
  rotateDek(orgId: string, subjectId?: string): Promise<{ from: number | null; to: number }>
  /** The owner's current DEK version, creating version 1 if the owner has none. */
  currentDekVersion(orgId: string, subjectId?: string): Promise<number>
  /** Drops unwrapped keys from memory (tests; after another process rotated or shredded). */
  forgetKeys(): void
}

interface LoadedDek { version: number; key: KeyObject }

/** Owner of the process-wide blind-index root key (not an organization id: those are `org_…`). */
const INDEX_OWNER = { orgId: '*', subjectId: 'blind-index' } as const

const owner = (orgId: string, subjectId: string) => `${orgId}\u0000${subjectId}\u0000`

export async function createEnvelope(opts: EnvelopeOptions): Promise<Envelope> {
  const { db, provider, clock } = opts
  const cacheSize = opts.cacheSize ?? 50_000
  const current = new LruMap<string, Promise<LoadedDek>>(cacheSize)
  const versions = new LruMap<string, Promise<LoadedDek | null>>(cacheSize)
  const indexKeys = new LruMap<string, Buffer>(10_000)

  async function unwrapRow(row: DekRow): Promise<LoadedDek> {
    const raw = await provider.unwrap(row.kek_version, Buffer.from(row.wrapped, 'base64'), dekAad(row))
    try { return { version: row.version, key: createSecretKey(raw) } } finally { raw.fill(0) }
  }

  async function createDek(orgId: string, subjectId: string, version: number): Promise<LoadedDek> {
    const dek = randomBytes(32)
    try {
      const kekVersion = await provider.currentVersion()
      const row = { id: newId('dek', clock.now().getTime()), org_id: orgId, subject_id: subjectId, version }
      const wrapped = await provider.wrap(kekVersion, dek, dekAad(row))
      try {
        await insertDek(db, { ...row, state: 'current', kek_version: kekVersion, wrapped: wrapped.toString('base64'), created_at: clock.now().getTime(), retired_at: null, rewrapped_at: null })
      } catch (e) {
        // Another request or process created this version first (unique owner+version): use theirs.
        const theirs = await findDek(db, orgId, subjectId, version)
        if (!theirs) throw e
        return unwrapRow(theirs)
      }
      return { version, key: createSecretKey(dek) }
    } finally {
      dek.fill(0)
    }
  }

  /** Caches the promise, so concurrent first requests share one load; a failure is not cached. */
  function memo<T>(map: LruMap<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key)
    if (hit) return hit
    const p = load()
    map.set(key, p)
    p.catch(() => map.delete(key))
    return p
  }

  const ttl = opts.currentKeyTtlMs ?? DEFAULT_CURRENT_KEY_TTL_MS
  const checkedAt = new LruMap<string, number>(cacheSize)

  /** Stale-while-revalidate: past the TTL, one background read looks for a newer current version. */
  function revalidate(orgId: string, subjectId: string, key: string, cached: Promise<LoadedDek>): void {
    const now = clock.now().getTime()
    const last = checkedAt.get(key)
    if (last === undefined) { checkedAt.set(key, now); return }
    if (now - last < ttl) return
    checkedAt.set(key, now)
    void (async () => {
      const [row, mine] = await Promise.all([findCurrentDek(db, orgId, subjectId), cached])
      if (row && row.version !== mine.version) current.set(key, Promise.resolve(await unwrapRow(row)))
    })().catch(() => { checkedAt.delete(key) })
  }

  function currentDek(orgId: string, subjectId: string): Promise<LoadedDek> {
    const key = owner(orgId, subjectId)
    const hit = current.get(key)
    if (hit) { revalidate(orgId, subjectId, key, hit); return hit }
    return memo(current, key, async () => {
      const row = await findCurrentDek(db, orgId, subjectId)
      const dek = row ? await unwrapRow(row) : await createDek(orgId, subjectId, 1)
      versions.set(owner(orgId, subjectId) + dek.version, Promise.resolve(dek))
      return dek
    })
  }

  function dekVersion(orgId: string, subjectId: string, version: number): Promise<LoadedDek | null> {
    return memo(versions, owner(orgId, subjectId) + version, async () => {
      const row = await findDek(db, orgId, subjectId, version)
      return row ? unwrapRow(row) : null
    })
  }

  const indexRootRaw = await (async () => {
    const { orgId, subjectId } = INDEX_OWNER
    const row = await findDek(db, orgId, subjectId, 1)
    const dek = row ? await unwrapRow(row) : await createDek(orgId, subjectId, 1)
    return dek.key.export()
  })()

  function encryptWith(dek: LoadedDek, ctx: CipherContext, plaintext: string | Buffer): string {
    const iv = randomBytes(IV_BYTES)
    const c = createCipheriv('aes-256-gcm', dek.key, iv).setAAD(fieldAad(ctx, dek.version))
    const body = Buffer.concat([c.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), c.final()])
    return encodeCiphertext(dek.version, iv, body, c.getAuthTag())
  }

  const envelope: Envelope = {
    provider,

    async encrypt(ctx, plaintext) {
      return encryptWith(await currentDek(ctx.orgId, ctx.subjectId ?? ''), ctx, plaintext)
    },

    async decrypt(ctx, ciphertext) {
      const parsed = parseCiphertext(ciphertext)
      const dek = await dekVersion(ctx.orgId, ctx.subjectId ?? '', parsed.dekVersion)
      if (!dek) throw new CryptoError(ctx.subjectId ? 'dek_destroyed' : 'dek_not_found', `${ctx.table}.${ctx.column}`)
      try {
        const d = createDecipheriv('aes-256-gcm', dek.key, parsed.iv).setAAD(fieldAad(ctx, parsed.dekVersion))
        d.setAuthTag(parsed.tag)
        return Buffer.concat([d.update(parsed.body), d.final()])
      } catch (e) {
        throw new CryptoError('ciphertext_context_mismatch', `${ctx.table}.${ctx.column}`, { cause: e })
      }
    },

    async decryptText(ctx, ciphertext) {
      return (await envelope.decrypt(ctx, ciphertext)).toString('utf8')
    },

    blindIndex(orgId, purpose, value) {
      const id = `${orgId}\u0000${purpose}`
      let key = indexKeys.get(id)
      if (!key) {
        key = Buffer.from(hkdfSync('sha256', indexRootRaw, Buffer.from(orgId), Buffer.from(`sealpost-blind-index:${purpose}`), 32))
        indexKeys.set(id, key)
      }
      return createHmac('sha256', key).update(value, 'utf8').digest('base64url')
    },

    async shredSubject(orgId, subjectId) {
      const n = await deleteSubjectDeks(db, orgId, subjectId)
      const prefix = owner(orgId, subjectId)
      current.delete(prefix)
      versions.deleteWhere((k) => k.startsWith(prefix))
      return n
    },

    async rotateDek(orgId, subjectId = '') {
      const cur = await findCurrentDek(db, orgId, subjectId)
      const to = (cur?.version ?? 0) + 1
      const dek = await createDek(orgId, subjectId, to)
      if (cur) await retireDek(db, orgId, subjectId, cur.version, clock.now().getTime())
      current.set(owner(orgId, subjectId), Promise.resolve(dek))
      versions.set(owner(orgId, subjectId) + to, Promise.resolve(dek))
      return { from: cur?.version ?? null, to }
    },

    async currentDekVersion(orgId, subjectId = '') {
      return (await currentDek(orgId, subjectId)).version
    },

    forgetKeys() {
      current.clear()
      versions.clear()
    },
  }
  return envelope
}
