import { newId } from '../core/ids.ts'
import type { Clock } from '../core/clock.ts'
import type { AccessConditions, Environment } from '../core/principal.ts'
import type { DbOrTrx } from '../storage/db.ts'
import { generateKey, hashKey } from './format.ts'
import { insertKey } from './store.ts'

export interface NewKeyInput {
  orgId: string
  name: string
  environment: Environment
  scopes: readonly string[]
  createdBy?: string | null
  expiresAt?: number | null
  conditions?: AccessConditions | null
}

/** Creates a key and returns its secret: the only time the secret exists outside the caller. */
export async function createKey(db: DbOrTrx, pepper: string, clock: Clock, input: NewKeyInput) {
  const now = clock.now().getTime()
  const id = newId('key', now)
  const { token, lookupId, last4 } = generateKey(input.environment)
  await insertKey(db, {
    id, org_id: input.orgId, name: input.name, environment: input.environment,
    scopes: JSON.stringify(input.scopes), conditions: input.conditions ? JSON.stringify(input.conditions) : null,
    created_by: input.createdBy ?? null, created_at: now, expires_at: input.expiresAt ?? null,
    revoked_at: null, suspended_at: null, suspended_reason: null, last_used_at: null, last_used_ip: null, last4,
  }, { lookup_id: lookupId, key_id: id, org_id: input.orgId, hash: hashKey(pepper, token), created_at: now, expires_at: null })
  return { id, secret: token, last4 }
}
