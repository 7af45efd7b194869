import { errors, type Adapter, type AdapterPayload } from 'oidc-provider'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { AtRest } from './at-rest.ts'
import { artifactRow, deleteArtifact, deleteArtifactsOfGrant, findArtifact, findArtifactBy, markConsumed, upsertArtifact } from './artifact-store.ts'

export interface AdapterDeps {
  db: Db
  clock: Clock
  atRest: AtRest
  /** The Client model reads Sealpost's own client table (clients are managed by the API, not registered dynamically). */
  findClient(id: string): Promise<AdapterPayload | undefined>
  /** A grant ended (revoked, destroyed, or a one-time credential replayed): its JWT access tokens must stop working. */
  onGrantRevoked(grantId: string): Promise<void>
}

/**
 * oidc-provider's storage contract over Kysely (SQLite and PostgreSQL), one
 * table keyed by model + id. Each method mirrors oidc-provider's adapter
 * contract (see its example/my_adapter.js):
 *
 *   upsert(id, payload, expiresIn)  insert or replace; expiresIn in seconds
 *   find(id)                        payload or undefined (expired = absent); `consumed` set once consumed
 *   findByUid(uid)                  Session only
 *   findByUserCode(userCode)        DeviceCode only
 *   consume(id)                     one-time use: codes, rotated refresh tokens
 *   destroy(id)                     remove one
 *   revokeByGrantId(grantId)        remove every artifact of this model issued under the grant
 *
 * @example
 *   new Provider(issuer, { adapter: createAdapterFactory(deps), ... })
 */
export function createAdapterFactory(deps: AdapterDeps): (model: string) => Adapter {
  return (model) => (model === 'Client' ? clientAdapter(deps) : artifactAdapter(model, deps))
}

function artifactAdapter(model: string, deps: AdapterDeps): Adapter {
  const { db, clock, atRest } = deps
  const now = () => clock.now().getTime()
  const idHash = (id: string) => atRest.lookupHash(`${model}:id`, id)
  const grantHash = (grantId: string) => atRest.lookupHash('grant', grantId)

  async function load(row: Awaited<ReturnType<typeof findArtifact>>): Promise<AdapterPayload | undefined> {
    if (!row) return undefined
    const payload = JSON.parse(await atRest.open('oauth_artifacts', 'payload', `${model}:${row.id_hash}`, row.payload)) as AdapterPayload
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000)
    return payload
  }

  return {
    async upsert(id, payload, expiresIn) {
      const h = idHash(id)
      const sealed = await atRest.seal('oauth_artifacts', 'payload', `${model}:${h}`, JSON.stringify(payload))
      await upsertArtifact(db, artifactRow(model, h, sealed, {
        grant_hash: payload.grantId ? grantHash(payload.grantId) : null,
        uid_hash: payload.uid ? atRest.lookupHash('uid', payload.uid) : null,
        user_code_hash: payload.userCode ? atRest.lookupHash('user_code', payload.userCode) : null,
        client_id: typeof payload.clientId === 'string' ? payload.clientId : null,
        account_hash: typeof payload.accountId === 'string' ? accountHash(atRest, payload.accountId) : null,
        expires_at: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : null,
      }))
    },
    async find(id) {
      return load(await findArtifact(db, model, idHash(id), now()))
    },
    async findByUid(uid) {
      return load(await findArtifactBy(db, model, 'uid_hash', atRest.lookupHash('uid', uid), now()))
    },
    async findByUserCode(userCode) {
      return load(await findArtifactBy(db, model, 'user_code_hash', atRest.lookupHash('user_code', userCode), now()))
    },
    async consume(id) {
      const h = idHash(id)
      // Conditional update: of two concurrent redemptions of one code or refresh token, exactly one wins.
      if (await markConsumed(db, model, h, now())) return
      const payload = await load(await findArtifact(db, model, h, now()))
      if (payload?.grantId) await revokeGrant(payload.grantId)
      throw new errors.InvalidGrant('grant already used')
    },
    async destroy(id) {
      await deleteArtifact(db, model, idHash(id))
      if (model === 'Grant') await deps.onGrantRevoked(id)
    },
    async revokeByGrantId(grantId) {
      await deleteArtifactsOfGrant(db, model, grantHash(grantId))
      // oidc-provider calls this once per token model on every grant revocation; AccessToken is always among them.
      if (model === 'AccessToken') await deps.onGrantRevoked(grantId)
    },
  }

  async function revokeGrant(grantId: string) {
    await deleteArtifactsOfGrant(db, null, grantHash(grantId))
    await deleteArtifact(db, 'Grant', atRest.lookupHash('Grant:id', grantId))
    await deps.onGrantRevoked(grantId)
  }
}

/** How artifacts are indexed by account (users/ revocation finds a user's grants and refresh tokens with it). */
export const accountHash = (atRest: AtRest, accountId: string) => atRest.lookupHash('account', accountId)

function clientAdapter(deps: AdapterDeps): Adapter {
  const refuse = async () => { throw new Error('OAuth clients are managed through /v1/oauth/clients, not dynamic registration') }
  return {
    find: (id) => deps.findClient(id),
    upsert: refuse, consume: refuse, destroy: refuse, revokeByGrantId: refuse,
    findByUid: async () => undefined, findByUserCode: async () => undefined,
  }
}
