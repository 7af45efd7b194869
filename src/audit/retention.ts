import type { Clock } from '../core/clock.ts'
import { DAY } from '../core/clock.ts'
import { AppError } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Db } from '../storage/db.ts'
import type { AuditSigner } from './signer.ts'
import { checkpointStatement, SYSTEM_CHAIN } from './chain.ts'
import { lockChainHead, allowPurgeInTransaction, listChains } from './store.ts'
import { verifyAudit, type ChainProblem } from './verify.ts'
import type { AuditWriter } from './writer.ts'
import { orgOnHold } from '../legal-hold/store.ts'
import { idsDigest, recordPurge } from '../legal-hold/purge-record.ts'

/** Compliance presets, in days (years × 365.25, rounded up, so leap days are covered). */
export const RETENTION_PRESETS = {
  default: 90,
  pci_dss: 366,
  foia: 1096,
  fdic: 1827,
  hipaa: 2557,
  sox: 2557,
} as const
export type RetentionPreset = keyof typeof RETENTION_PRESETS
export const isRetentionPreset = (p: string): p is RetentionPreset => p in RETENTION_PRESETS
export const DEFAULT_RETENTION_DAYS = RETENTION_PRESETS.default
export const MAX_RETENTION_DAYS = 36_500

export interface RetentionSetting { preset: RetentionPreset | 'custom'; days: number }

/**
 * Retention per organization, for audit events and message content alike
 * (the message store calls `retentionDays(orgId)`). An organization without a
 * policy row uses `orgs.settings.retentionDays` if set, else 90 days.
 */
export interface RetentionPolicies {
  get(orgId: string): Promise<RetentionSetting>
  retentionDays(orgId: string): Promise<number>
  set(orgId: string, input: { preset?: string; days?: number }, by: string | null): Promise<RetentionSetting>
}

export function createRetentionPolicies(deps: { db: Db; clock: Clock }): RetentionPolicies {
  async function get(orgId: string): Promise<RetentionSetting> {
    const row = await deps.db.selectFrom('retention_policies').select(['preset', 'days']).where('org_id', '=', orgId).executeTakeFirst()
    if (row) return { preset: row.preset && isRetentionPreset(row.preset) ? row.preset : 'custom', days: row.days }
    const org = await deps.db.selectFrom('orgs').select('settings').where('id', '=', orgId).executeTakeFirst()
    const fromSettings = org ? safeJson(org.settings)?.retentionDays : undefined
    if (Number.isInteger(fromSettings) && fromSettings > 0) return { preset: 'custom', days: Math.min(fromSettings, MAX_RETENTION_DAYS) }
    return { preset: 'default', days: DEFAULT_RETENTION_DAYS }
  }
  return {
    get,
    retentionDays: async (orgId) => (await get(orgId)).days,
    async set(orgId, input, by) {
      let setting: RetentionSetting
      if (input.preset !== undefined && input.days !== undefined) throw new AppError('invalid_request', 'Give either a preset or a number of days, not both.')
      if (input.preset !== undefined) {
        if (!isRetentionPreset(input.preset)) throw new AppError('invalid_request', `Unknown retention preset. Use one of: ${Object.keys(RETENTION_PRESETS).join(', ')}.`)
        setting = { preset: input.preset, days: RETENTION_PRESETS[input.preset] }
      } else if (input.days !== undefined && Number.isInteger(input.days) && input.days >= 1 && input.days <= MAX_RETENTION_DAYS) {
        setting = { preset: 'custom', days: input.days }
      } else {
        throw new AppError('invalid_request', `Give a preset or a number of days between 1 and ${MAX_RETENTION_DAYS}.`)
      }
      const row = { org_id: orgId, preset: setting.preset === 'custom' ? null : setting.preset, days: setting.days, updated_at: deps.clock.now().getTime(), updated_by: by }
      await deps.db.insertInto('retention_policies').values(row)
        .onConflict((oc) => oc.column('org_id').doUpdateSet({ preset: row.preset, days: row.days, updated_at: row.updated_at, updated_by: row.updated_by }))
        .execute()
      return setting
    },
  }
}

function safeJson(s: string): any {
  try { return JSON.parse(s) } catch { return null }
}

export interface PurgeReport {
  chainId: string; purged: number; anchorSeq: number | null; refused?: ChainProblem
  /** Set when something was purged: what the signed purge record says (legal-hold/purge-record.ts). */
  anchorId?: string; idsSha256?: string; range?: { from: number; to: number }
  /** An organization-wide legal hold suspended this chain's retention. */
  held?: boolean
}

/**
 * Deletes a chain's events older than `cutoffMs` and writes a signed anchor in
 * their place, so what remains still verifies from the anchor.
 *   1. The part to purge is verified first: tampered events are never laundered by a purge.
 *   2. Events are removed from the oldest up to the first one still inside retention (no holes).
 *   3. Delete + anchor happen in one transaction, with the PostgreSQL append-only trigger
 *      opened for that transaction only (see store.allowPurgeInTransaction).
 */
export async function purgeChain(db: Db, signer: AuditSigner, clock: Clock, chainId: string, cutoffMs: number): Promise<PurgeReport> {
  const firstKept = await db.selectFrom('audit_events').select('seq')
    .where('chain_id', '=', chainId).where('occurred_at', '>=', cutoffMs)
    .orderBy('seq').limit(1).executeTakeFirst()
  const bound = firstKept ? Number(firstKept.seq) - 1 : null
  const last = await db.selectFrom('audit_events').select(['id', 'seq', 'hash'])
    .where('chain_id', '=', chainId).$if(bound !== null, (q) => q.where('seq', '<=', bound!))
    .orderBy('seq', 'desc').limit(1).executeTakeFirst()
  if (!last) return { chainId, purged: 0, anchorSeq: null }

  const check = await verifyAudit(db, signer, { chainId, uptoSeq: Number(last.seq) })
  if (!check.ok) return { chainId, purged: 0, anchorSeq: null, refused: check.problems[0] }

  return db.transaction().execute(async (trx) => {
    const now = clock.now().getTime()
    await lockChainHead(trx, chainId, now)
    await allowPurgeInTransaction(trx)
    const gone = await trx.selectFrom('audit_events').select(['id', 'occurred_at']).where('chain_id', '=', chainId).where('seq', '<=', last.seq).execute()
    const deleted = await trx.deleteFrom('audit_events').where('chain_id', '=', chainId).where('seq', '<=', last.seq).executeTakeFirst()
    const previous = await trx.selectFrom('audit_checkpoints').select(['id', 'details']).where('chain_id', '=', chainId).where('kind', '=', 'anchor').orderBy('seq', 'desc').executeTakeFirst()
    const before = previous?.details ? JSON.parse(previous.details).purgedTotal ?? 0 : 0
    await trx.deleteFrom('audit_checkpoints').where('chain_id', '=', chainId).where('seq', '<=', last.seq).execute()
    const purged = Number(deleted.numDeletedRows)
    const details = JSON.stringify({ purged, purgedTotal: before + purged, cutoff: new Date(cutoffMs).toISOString(), previousAnchor: previous?.id ?? null })
    const anchor = { chain_id: chainId, kind: 'anchor' as const, seq: Number(last.seq), event_id: last.id, event_hash: last.hash, created_at: now, details }
    const anchorId = newId('ack', now)
    await trx.insertInto('audit_checkpoints').values({ id: anchorId, ...anchor, key_id: signer.keyId, signature: signer.sign(checkpointStatement(anchor)) }).execute()
    const times = gone.map((g) => Number(g.occurred_at))
    return {
      chainId, purged, anchorSeq: Number(last.seq), anchorId, idsSha256: idsDigest(gone.map((g) => g.id)),
      range: { from: times.reduce((m, t) => Math.min(m, t), Infinity), to: times.reduce((m, t) => Math.max(m, t), -Infinity) },
    }
  })
}

/** Applies every chain's retention: organizations by their policy, the system chain by the default. */
export async function purgeExpired(deps: { db: Db; signer: AuditSigner; clock: Clock; policies: RetentionPolicies; writer?: Pick<AuditWriter, 'append'> }): Promise<PurgeReport[]> {
  const now = deps.clock.now().getTime()
  const reports: PurgeReport[] = []
  for (const chainId of await listChains(deps.db)) {
    // An organization-wide legal hold keeps its whole audit trail until released.
    if (chainId !== SYSTEM_CHAIN && await orgOnHold(deps.db, chainId)) { reports.push({ chainId, purged: 0, anchorSeq: null, held: true }); continue }
    const days = chainId === SYSTEM_CHAIN ? DEFAULT_RETENTION_DAYS : await deps.policies.retentionDays(chainId)
    const cutoff = now - days * DAY
    const r = await purgeChain(deps.db, deps.signer, deps.clock, chainId, cutoff)
    if (r.purged && deps.writer) {
      // The signed record lands in the same chain, after the anchor that replaced the events.
      recordPurge(deps.writer, chainId === SYSTEM_CHAIN ? null : chainId, deps.clock.now(), {
        what: 'audit_events', count: r.purged, cutoff: new Date(cutoff).toISOString(),
        range: { from: new Date(r.range!.from).toISOString(), to: new Date(r.range!.to).toISOString() }, ids_sha256: r.idsSha256!, anchor: r.anchorId!,
      })
    }
    if (r.purged || r.refused) reports.push(r)
  }
  return reports
}

