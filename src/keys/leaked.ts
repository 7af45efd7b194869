import type { Clock } from '../core/clock.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Db } from '../storage/db.ts'
import { hashKey, parseKey, sameHash } from './format.ts'
import { findSecretWithKey, revokeKey } from './store.ts'
import type { LeakReport } from './schema.ts'
import type { RequestMeta } from './service.ts'

/**
 * Secret-scanning reports (GitHub's partner program shape: `[{ token, type, url, source }]`).
 * 1. Offline first: a token that fails the format checksum is dropped without touching the database.
 * 2. A well-formed token is looked up and its HMAC compared like any authentication; a match on a live
 *    secret (current or still in a rotation grace window) revokes the whole key at once.
 * 3. Each revocation is an admin event `key.leaked_revoked` for the key's org and a `key_leaked` alert
 *    (severity high) that notifies the org through its channels (webhook, email via system mail); the
 *    alert is raised after the answer (detached), so neither timing nor body reveals a match. The
 *    report itself is an org-less `key.leak_report_received` event with counts only.
 * The caller learns nothing: the result is the count received, whatever matched. A matched token was
 * usable by its holder anyway, so revoking on an anonymous report only takes access away.
 */
export interface LeakedKeyRevoked { orgId: string; keyId: string; type: string; url: string; source: string; at: number }

export function createLeakedKeyService(deps: {
  db: Db; pepper: string; clock: Clock; audit: AuditRecorder
  /** Raises the alert (app.ts: monitoring's `key_leaked` rule). Runs detached; failures go to onError. */
  onRevoked?: (revoked: LeakedKeyRevoked) => Promise<unknown>
  onError?: (what: string, err: unknown) => void
}) {
  const system = { type: 'system' as const, id: 'secret-scanning' }
  let tail: Promise<unknown> = Promise.resolve()
  const detach = (job: () => Promise<unknown>) => {
    tail = tail.then(job).catch((err) => deps.onError?.('leaked key: raising the alert failed', err))
  }

  async function report(findings: LeakReport, meta: RequestMeta): Promise<{ received: number }> {
    let wellFormed = 0
    let revoked = 0
    const seen = new Set<string>()
    for (const finding of findings) {
      if (seen.has(finding.token)) continue
      seen.add(finding.token)
      const parsed = parseKey(finding.token)
      if (!parsed) continue
      wellFormed++
      const row = await findSecretWithKey(deps.db, parsed.lookupId)
      const presented = hashKey(deps.pepper, finding.token)
      if (!row || !sameHash(presented, row.hash)) continue
      const now = deps.clock.now().getTime()
      const live = row.revoked_at === null && (row.secret_expires_at === null || row.secret_expires_at > now)
      if (!live) continue
      if (await revokeKey(deps.db, row.org_id, row.id, now, 'leaked', system.id)) {
        revoked++
        deps.audit.record({
          orgId: row.org_id, actor: system, action: 'key.leaked_revoked', target: { type: 'api_key', id: row.id },
          details: { type: finding.type, url: finding.url, source: finding.source }, ip: meta.ip, requestId: meta.requestId, outcome: 'success',
        })
        const revokedKey = { orgId: row.org_id, keyId: row.id, type: finding.type, url: finding.url, source: finding.source, at: now }
        if (deps.onRevoked) detach(() => deps.onRevoked!(revokedKey))
      }
    }
    deps.audit.record({
      orgId: null, actor: system, action: 'key.leak_report_received',
      details: { findings: findings.length, well_formed: wellFormed, revoked }, ip: meta.ip, requestId: meta.requestId, outcome: 'success',
    })
    return { received: findings.length }
  }

  return {
    report,
    /** Resolves once the detached alerts have been raised (tests, close). */
    async settled(): Promise<void> {
      let seen: Promise<unknown>
      do { seen = tail; await seen } while (seen !== tail)
    },
  }
}

export type LeakedKeyService = ReturnType<typeof createLeakedKeyService>
