import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { notFound } from '../core/errors.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { revokeKey } from './store.ts'
import { createKey } from './service.ts'

export interface CanaryUse { orgId: string; keyId: string; ip: string; method: string; route: string; userAgent: string | null; at: number }

/**
 * Canary (decoy) keys: planted where a real key would leak from (a repository, a CI variable, a
 * wiki page). Same format as a live key, a real api_keys row, but no scopes and a mark in
 * `canary_keys`. Deception, not revocation: a presented canary authenticates and every route then
 * answers exactly what a valid key without the scope gets (403 insufficient_scope: the boot refuses
 * any non-public route without scopes, so a scope-less key passes none), so the holder
 * learns nothing; behind it, each use raises a `canary_key_used` alert (critical) with the source IP,
 * whose policy blocks that IP (default) and notifies the org. Listed apart: GET /v1/canary-keys, never
 * in GET /v1/keys.
 */
export function createCanaryKeys(deps: {
  db: Db; pepper: string; clock: Clock; audit: AuditRecorder
  /** Raises the alert (app.ts: monitoring's `canary_key_used` rule); detached. */
  onUse: (use: CanaryUse) => Promise<unknown>
  onError: (what: string, err: unknown) => void
}) {
  const { db } = deps
  let tail: Promise<unknown> = Promise.resolve()
  // Canaries carry no scopes, so only scope-less key principals pay the lookup.
  const suspect = (p: Principal | null | undefined): p is Principal => !!p && p.actor.type === 'key' && p.scopes.length === 0
  const isCanary = async (p: Principal) => !!(await db.selectFrom('canary_keys').select('key_id').where('key_id', '=', p.credentialId).where('org_id', '=', p.orgId).executeTakeFirst())
  const view = (r: { key_id: string; name: string; created_at: number; created_by: string | null }) =>
    ({ id: r.key_id, name: r.name, kind: 'canary', created_at: new Date(Number(r.created_at)).toISOString(), created_by: r.created_by })

  return {
    async create(p: Principal, input: { name: string }, meta: { ip?: string; requestId?: string }) {
      const key = await createKey(db, deps.pepper, deps.clock, { orgId: p.orgId, name: input.name, environment: 'live', scopes: [], createdBy: `${p.actor.type}:${p.actor.id}` })
      const at = deps.clock.now().getTime()
      await db.insertInto('canary_keys').values({ key_id: key.id, org_id: p.orgId, name: input.name, created_by: `${p.actor.type}:${p.actor.id}`, created_at: at }).execute()
      deps.audit.record({ orgId: p.orgId, actor: p.actor, action: 'key.canary_created', target: { type: 'api_key', id: key.id }, outcome: 'success', ip: meta.ip, requestId: meta.requestId })
      return { ...view({ key_id: key.id, name: input.name, created_at: at, created_by: `${p.actor.type}:${p.actor.id}` }), secret: key.secret }
    },
    async list(p: Principal) {
      const rows = await db.selectFrom('canary_keys').innerJoin('api_keys', 'api_keys.id', 'canary_keys.key_id')
        .select(['canary_keys.key_id', 'canary_keys.name', 'canary_keys.created_at', 'canary_keys.created_by', 'api_keys.last_used_at', 'api_keys.revoked_at'])
        .where('canary_keys.org_id', '=', p.orgId).where('api_keys.revoked_at', 'is', null).orderBy('canary_keys.key_id', 'desc').execute()
      return { data: rows.map((r) => view(r)) }
    },
    async remove(p: Principal, id: string, meta: { ip?: string; requestId?: string }) {
      const row = await db.selectFrom('canary_keys').select('key_id').where('org_id', '=', p.orgId).where('key_id', '=', id).executeTakeFirst()
      if (!row || !(await revokeKey(db, p.orgId, id, deps.clock.now().getTime(), 'canary_retired', `${p.actor.type}:${p.actor.id}`))) throw notFound('Canary key')
      deps.audit.record({ orgId: p.orgId, actor: p.actor, action: 'key.canary_retired', target: { type: 'api_key', id }, outcome: 'success', ip: meta.ip, requestId: meta.requestId })
    },
    /** onResponse: every use of a canary, whatever the route answered, raises the alert. */
    async responseHook(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
      const p = req.principal
      if (!suspect(p)) return
      const use: CanaryUse = { orgId: p.orgId, keyId: p.credentialId, ip: req.clientIp || req.ip, method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0], userAgent: req.headers['user-agent'] ?? null, at: deps.clock.now().getTime() }
      tail = tail.then(async () => { if (await isCanary(p)) await deps.onUse(use) }).catch((err) => deps.onError('canary key: raising the alert failed', err))
    },
    async settled(): Promise<void> {
      let seen: Promise<unknown>
      do { seen = tail; await seen } while (seen !== tail)
    },
  }
}

export type CanaryKeys = ReturnType<typeof createCanaryKeys>
