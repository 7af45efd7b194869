import { newId } from '../core/ids.ts'
import type { Clock } from '../core/clock.ts'
import { AppError, notFound } from '../core/errors.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { AccessConditions, Environment, Principal } from '../core/principal.ts'
import { canSee, environmentsVisibleTo } from '../access/sandbox.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import { isScope } from '../access/scopes.ts'
import { normalizeConditions } from '../access/narrow-conditions.ts'
import { assertContained, containedNew, type CredentialVerb } from '../access/containment.ts'
import { generateKey, hashKey } from './format.ts'
import { currentSecretsIssuedAt, findKey, findKeyForUpdate, insertKey, listKeys, reinstateKey, revokeKey, rotateSecrets, suspendKey } from './store.ts'
import type { KeyPolicySettings, OrgKeyPolicyStore } from './policy.ts'
import { conditionsFromApi, DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS, type CreateKeyInput } from './schema.ts'
import { toKeyView } from './view.ts'
import type { ApiKeyRow } from './table.ts'

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
    revoked_at: null, revoked_reason: null, revoked_by: null,
    suspended_at: null, suspended_reason: null, last_used_at: null, last_used_ip: null, last4,
  }, { lookup_id: lookupId, key_id: id, org_id: input.orgId, hash: hashKey(pepper, token), created_at: now, expires_at: null })
  return { id, secret: token, last4 }
}

/** Where a request came from, for the audit trail. */
export interface RequestMeta { ip?: string; requestId?: string }

export interface KeyServiceDeps {
  db: Db
  pepper: string
  clock: Clock
  audit: AuditRecorder
  policy: OrgKeyPolicyStore
  /** monitoring/ drops its in-memory suspension and throttle for the key (enforcement.markReinstated). */
  onReinstated?: (keyId: string) => void
}

/**
 * Key lifecycle. Least privilege throughout (access/containment.ts, the one rule for every credential
 * kind): a key gets at most its creator's scopes, the creator's environment and conditions at least as
 * narrow, and the same rule guards rotate, revoke and reinstate (rotating hands out a secret, so
 * rotating a wider key would be an escalation).
 */
export function createKeyService(deps: KeyServiceDeps) {
  const { db, clock, audit } = deps
  const now = () => clock.now().getTime()

  function record(principal: Principal, action: string, keyId: string, meta: RequestMeta, details?: Record<string, unknown>) {
    audit.record({ orgId: principal.orgId, actor: principal.actor, action, target: { type: 'api_key', id: keyId }, details, ip: meta.ip, requestId: meta.requestId, outcome: 'success' })
  }

  function assertCanManage(principal: Principal, row: ApiKeyRow, verb: CredentialVerb) {
    const target = {
      scopes: JSON.parse(row.scopes) as string[], environment: row.environment,
      conditions: row.conditions ? (JSON.parse(row.conditions) as AccessConditions) : null,
    }
    assertContained(principal, target, verb, 'key')
  }

  async function view(principal: Principal, row: ApiKeyRow) {
    const issued = await currentSecretsIssuedAt(db, principal.orgId, [row.id])
    return toKeyView(principal, row, issued.get(row.id) ?? null, await deps.policy.forOrg(principal.orgId), now())
  }

  async function load(principal: Principal, id: string) {
    const row = await findKey(db, principal.orgId, id)
    if (!row) throw notFound('Key')
    return row
  }

  async function create(principal: Principal, input: CreateKeyInput, meta: RequestMeta) {
    // 1. Least privilege: scopes, environment and conditions no wider than the creator's (left-out conditions are inherited).
    const unknown = input.scopes.filter((s) => !isScope(s))
    if (unknown.length) throw new AppError('insufficient_scope', 'A key cannot have scopes its creator does not have.', { details: { scopes: unknown } })
    const { conditions } = containedNew(principal, { scopes: input.scopes, environment: input.environment, conditions: normalizeConditions(conditionsFromApi(input.conditions)) }, 'key')
    const expiresAt = input.expires_at ? Date.parse(input.expires_at) : null
    if (expiresAt !== null && expiresAt <= now()) {
      throw new AppError('invalid_request', 'expires_at must be in the future.', { details: [{ path: 'body/expires_at', message: 'must be in the future' }] })
    }
    // 2. Store (hash only) and audit; the secret leaves once, in this response.
    const created = await createKey(db, deps.pepper, clock, {
      orgId: principal.orgId, name: input.name, environment: input.environment, scopes: input.scopes,
      createdBy: principal.actor.id, expiresAt, conditions,
    })
    record(principal, 'key.created', created.id, meta, { name: input.name, scopes: input.scopes, environment: input.environment, expires_at: input.expires_at ?? null, conditions: conditions !== null })
    return { key: await view(principal, await load(principal, created.id)), secret: created.secret }
  }

  async function list(principal: Principal, opts: { limit?: number; cursor?: string }) {
    const limit = opts.limit ?? 50
    const rows = await listKeys(db, principal.orgId, { limit, before: opts.cursor, environments: environmentsVisibleTo(principal) })
    const issued = await currentSecretsIssuedAt(db, principal.orgId, rows.map((r) => r.id))
    const policy = await deps.policy.forOrg(principal.orgId)
    const t = now()
    return {
      data: rows.map((r) => toKeyView(principal, r, issued.get(r.id) ?? null, policy, t)),
      next_cursor: rows.length === limit ? rows[rows.length - 1].id : null,
    }
  }

  async function get(principal: Principal, id: string) {
    const row = await load(principal, id)
    // A test credential reads only test keys (access/sandbox.ts); changes are guarded by containment.
    if (!canSee(principal, row.environment)) throw notFound('Key')
    return view(principal, row)
  }

  async function rotate(principal: Principal, id: string, input: { grace_period_seconds?: number }, meta: RequestMeta) {
    const graceSeconds = Math.min(input.grace_period_seconds ?? DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS)
    const result = await db.transaction().execute(async (trx) => {
      // 1. Load under lock, same tenant; the caller must be able to hold what it is about to receive.
      const row = await findKeyForUpdate(trx, principal.orgId, id)
      if (!row) throw notFound('Key')
      assertCanManage(principal, row, 'rotate')
      if (row.revoked_at !== null) throw new AppError('conflict', 'This key is revoked; create a new one.')
      const t = now()
      if (row.expires_at !== null && row.expires_at <= t) throw new AppError('conflict', 'This key has expired; create a new one.')
      // 2. New secret now; the old one keeps working until the grace window ends, then dies.
      const { token, lookupId } = generateKey(row.environment)
      const graceUntil = t + graceSeconds * 1000
      await rotateSecrets(trx, principal.orgId, id, { lookup_id: lookupId, key_id: id, org_id: principal.orgId, hash: hashKey(deps.pepper, token), created_at: t, expires_at: null }, t, graceUntil)
      await trx.updateTable('api_keys').set({ last4: token.slice(-4) }).where('org_id', '=', principal.orgId).where('id', '=', id).execute()
      return { token, graceUntil }
    })
    record(principal, 'key.rotated', id, meta, { grace_period_seconds: graceSeconds })
    return {
      key: await get(principal, id),
      secret: result.token,
      previous_secret_expires_at: new Date(result.graceUntil).toISOString(),
    }
  }

  async function revoke(principal: Principal, id: string, meta: RequestMeta) {
    const row = await load(principal, id)
    assertCanManage(principal, row, 'revoke')
    if (await revokeKey(db, principal.orgId, id, now(), 'manual', principal.actor.id)) record(principal, 'key.revoked', id, meta)
    return get(principal, id)
  }

  /**
   * For monitoring/'s automatic response (no principal: the system acts). Returns false when the key
   * is missing, revoked or already suspended. The org sees `key.suspended` in its audit log.
   */
  async function suspend(orgId: string, id: string, reason: string, meta: RequestMeta = {}): Promise<boolean> {
    const done = await suspendKey(db, orgId, id, now(), reason)
    if (done) audit.record({ orgId, actor: { type: 'system', id: 'monitoring' }, action: 'key.suspended', target: { type: 'api_key', id }, details: { reason }, ip: meta.ip, requestId: meta.requestId, outcome: 'success' })
    return done
  }

  /** An administrator lifts a suspension (same manage rule as rotate/revoke). */
  async function reinstate(principal: Principal, id: string, meta: RequestMeta) {
    const row = await load(principal, id)
    assertCanManage(principal, row, 'reinstate')
    if (row.revoked_at !== null) throw new AppError('conflict', 'This key is revoked; create a new one.')
    if (await reinstateKey(db, principal.orgId, id)) record(principal, 'key.reinstated', id, meta, { was: row.suspended_reason })
    deps.onReinstated?.(id)
    return get(principal, id)
  }

  async function readPolicy(principal: Principal) {
    const s = await deps.policy.read(principal.orgId)
    return { max_key_age_days: s.maxKeyAgeDays, key_expiry_warning_days: s.keyExpiryWarningDays }
  }

  async function updatePolicy(principal: Principal, input: { max_key_age_days?: number | null; key_expiry_warning_days?: number }, meta: RequestMeta) {
    const patch: Partial<KeyPolicySettings> = {}
    if (input.max_key_age_days !== undefined) patch.maxKeyAgeDays = input.max_key_age_days
    if (input.key_expiry_warning_days !== undefined) patch.keyExpiryWarningDays = input.key_expiry_warning_days
    const s = await deps.policy.update(principal.orgId, patch)
    if (!s) throw notFound('Organization')
    audit.record({ orgId: principal.orgId, actor: principal.actor, action: 'org.key_policy_changed', target: { type: 'org', id: principal.orgId }, details: { ...input }, ip: meta.ip, requestId: meta.requestId, outcome: 'success' })
    return { max_key_age_days: s.maxKeyAgeDays, key_expiry_warning_days: s.keyExpiryWarningDays }
  }

  return { create, list, get, rotate, revoke, suspend, reinstate, readPolicy, updatePolicy }
}

export type KeyService = ReturnType<typeof createKeyService>
