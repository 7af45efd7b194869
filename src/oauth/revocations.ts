import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'

/** What the resource server knows about a token it is checking. */
export interface TokenRef { jti: string; clientId: string; grantRef?: string }

/**
 * JWT access tokens are self-contained, so revoking one means listing it until
 * it would have expired anyway. Entries: a single token (`jti:`), every token of
 * a grant (`grant:`; a revoked grant never issues again, a new authorization gets
 * a new grant), every token of a deleted client (`client:`; ids are never reused).
 * `isRevoked` answers from an in-memory mirror (this process's revocations at once, other processes'
 * within the refresh interval); `isRevokedNow` is authoritative: a hit in the mirror, else one indexed
 * point query on the table, so a revocation made by any process applies on the next request. The
 * resource server uses `isRevokedNow` (oauth/token-standing.ts).
 */
export function createRevocationList(deps: { db: Db; clock: Clock; ttlMs: number }) {
  const { db, clock } = deps
  let mirror = new Map<string, number>()

  async function add(id: string): Promise<void> {
    const t = clock.now().getTime()
    mirror.set(id, t)
    await db.insertInto('oauth_revocations').values({ id, revoked_at: t, expires_at: t + deps.ttlMs })
      .onConflict((oc) => oc.column('id').doUpdateSet({ revoked_at: t, expires_at: t + deps.ttlMs }))
      .execute()
  }

  async function refresh(): Promise<void> {
    const t = clock.now().getTime()
    await db.deleteFrom('oauth_revocations').where('expires_at', '<=', t).execute()
    const rows = await db.selectFrom('oauth_revocations').select(['id', 'revoked_at']).execute()
    const fresh = new Map(rows.map((r) => [r.id, Number(r.revoked_at)]))
    // Keep this process's revocations made while the select ran (their insert may not have been visible yet).
    for (const [id, at] of mirror) if (at >= t) fresh.set(id, at)
    mirror = fresh
  }

  function isRevoked(ref: TokenRef): boolean {
    if (mirror.size === 0) return false
    return mirror.has(`jti:${ref.jti}`) || mirror.has(`client:${ref.clientId}`)
      || (ref.grantRef !== undefined && mirror.has(`grant:${ref.grantRef}`))
  }

  async function isRevokedNow(ref: TokenRef): Promise<boolean> {
    if (isRevoked(ref)) return true
    const ids = [`jti:${ref.jti}`, `client:${ref.clientId}`, ...(ref.grantRef !== undefined ? [`grant:${ref.grantRef}`] : [])]
    const hit = await db.selectFrom('oauth_revocations').select('id')
      .where('id', 'in', ids).where('expires_at', '>', clock.now().getTime()).executeTakeFirst()
    return hit !== undefined
  }

  return {
    revokeToken: (jti: string) => add(`jti:${jti}`),
    revokeGrant: (grantRef: string) => add(`grant:${grantRef}`),
    revokeClient: (clientId: string) => add(`client:${clientId}`),
    refresh,
    isRevoked,
    isRevokedNow,
  }
}

export type RevocationList = ReturnType<typeof createRevocationList>
