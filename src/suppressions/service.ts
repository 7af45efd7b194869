import { newId } from '../core/ids.ts'
import { notFound } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Environment, Principal } from '../core/principal.ts'
import { environmentsVisibleTo, suppressionEnvironmentsFor } from '../access/sandbox.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db, DbOrTrx } from '../storage/db.ts'
import { fieldFilter, masks } from '../access/field-filter.ts'
import { deleteSuppression, findSuppressedIndexes, insertSuppression, listSuppressions } from './store.ts'
import type { SuppressionReason } from './table.ts'

const PURPOSE = 'suppression-address'
const view = fieldFilter({ id: true, address: { scope: 'contacts:pii', mask: masks.email }, reason: true, message_id: true, environment: true, created_at: true })

/**
 * The suppression list: addresses an organization must not mail again
 * (hard bounces, complaints, unsubscribes, manual). messages/ reads it at send
 * time; delivery outcomes and the unsubscribe endpoint write it. Each entry has an environment
 * (access/sandbox.ts): bounces and unsubscribes come from real mail (live); a test credential's
 * entries are test ones, which only test sends honour.
 */
export function createSuppressionService(deps: { db: Db; cipher: FieldCipher; clock: Clock; audit: AuditRecorder }) {
  const indexOf = (orgId: string, address: string) => deps.cipher.blindIndex(orgId, PURPOSE, address.toLowerCase())

  /** Encrypts and indexes now; the returned function only inserts, so it can run inside a caller's transaction. */
  async function prepare(orgId: string, address: string, reason: SuppressionReason, messageId: string | null = null, environment: Environment = 'live') {
    const now = deps.clock.now().getTime()
    const id = newId('sup', now)
    const encrypted = await deps.cipher.encrypt({ orgId, table: 'suppressions', column: 'address', rowId: id }, address.toLowerCase())
    const row = { id, org_id: orgId, address_index: indexOf(orgId, address), address: encrypted, reason, message_id: messageId, environment, created_at: now }
    return (db: DbOrTrx) => insertSuppression(db, row)
  }

  async function add(orgId: string, address: string, reason: SuppressionReason, messageId: string | null = null, environment: Environment = 'live') {
    return (await prepare(orgId, address, reason, messageId, environment))(deps.db)
  }

  /** The subset of `addresses` a send in `environment` must not mail, lower-cased. One indexed query. */
  async function suppressed(orgId: string, addresses: string[], environment: Environment = 'live'): Promise<Set<string>> {
    const byIndex = new Map(addresses.map((a) => [indexOf(orgId, a), a.toLowerCase()]))
    const hits = await findSuppressedIndexes(deps.db, orgId, [...byIndex.keys()], suppressionEnvironmentsFor(environment))
    return new Set([...hits].map((i) => byIndex.get(i)!))
  }

  async function list(principal: Principal, limit: number, cursor?: string) {
    const rows = await listSuppressions(deps.db, principal.orgId, environmentsVisibleTo(principal), limit, cursor)
    const page = rows.slice(0, limit)
    const data = await Promise.all(page.map(async (r) => ({
      id: r.id, reason: r.reason, message_id: r.message_id, environment: r.environment, created_at: new Date(r.created_at).toISOString(),
      address: await deps.cipher.decryptText({ orgId: r.org_id, table: 'suppressions', column: 'address', rowId: r.id }, r.address),
    })))
    return { data: view.many(principal, data), next_cursor: rows.length > limit ? page[page.length - 1].id : null }
  }

  async function addManual(principal: Principal, address: string) {
    const created = await add(principal.orgId, address, 'manual', null, principal.environment)
    deps.audit.record({ orgId: principal.orgId, actor: principal.actor, action: 'suppression.added', details: { reason: 'manual' } })
    return { created }
  }

  async function remove(principal: Principal, id: string) {
    if (!(await deleteSuppression(deps.db, principal.orgId, environmentsVisibleTo(principal), id))) throw notFound('Suppression')
    deps.audit.record({ orgId: principal.orgId, actor: principal.actor, action: 'suppression.removed', target: { type: 'suppression', id } })
  }

  return { add, prepare, suppressed, list, addManual, remove }
}

export type SuppressionService = ReturnType<typeof createSuppressionService>
