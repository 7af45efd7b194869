/**
 * Data-key rotation: start a new DEK version for an owner (organization, or one
 * subject), re-encrypt every registered column's rows in batches, then delete
 * the old DEK once no row uses it and every process has had time to notice the
 * new version (other processes re-check their cached current key every
 * `currentKeyTtlMs`). Rows are updated only if unchanged since read, so
 * concurrent writes win and are never overwritten with stale plaintext.
 */
import { sql, type Kysely } from 'kysely'
import type { Db } from '../storage/db.ts'
import type { Clock } from '../core/clock.ts'
import type { Envelope } from './envelope.ts'
import { DEFAULT_CURRENT_KEY_TTL_MS } from './envelope.ts'
import type { ColumnRegistry, EncryptedColumn } from './registry.ts'
import { deleteDek, listDeks } from './dek-store.ts'
import { dekVersionPrefix, FORMAT_PREFIX } from './format.ts'

export interface DekRotationDeps {
  db: Db
  envelope: Envelope
  registry: ColumnRegistry
  clock: Clock
  batchSize?: number
  /** Wait this long after retiring a DEK before deleting it (default 5 × the envelope's current-key TTL). */
  graceMs?: number
  onProgress?: (p: { table: string; column: string; done: number }) => void
  /**
   * Delete retired DEKs no registered column uses (past the grace period). Off by
   * default: a column nobody registered would become unreadable, so the caller
   * confirms that every encrypted column of the owner is in the registry.
   */
  deleteRetired?: boolean
}

export interface DekRotationResult { from: number | null; to: number; reencrypted: number; deleted: number[]; pending: number[] }

export async function rotateOwnerDek(deps: DekRotationDeps, orgId: string, subjectId = ''): Promise<DekRotationResult> {
  const { from, to } = await deps.envelope.rotateDek(orgId, subjectId)
  return { from, to, ...(await finishDekRotation(deps, orgId, subjectId)) }
}

/** Re-encrypts rows not under the current version, then deletes retired DEKs that are unused and past the grace period. Resumable. */
export async function finishDekRotation(deps: DekRotationDeps, orgId: string, subjectId = ''): Promise<Omit<DekRotationResult, 'from' | 'to'>> {
  const to = await deps.envelope.currentDekVersion(orgId, subjectId)
  const columns = ownedColumns(deps.registry, orgId, subjectId)
  let reencrypted = 0
  for (const c of columns) reencrypted += await reencryptColumn(deps, c, orgId, subjectId, to)

  const grace = deps.graceMs ?? 5 * DEFAULT_CURRENT_KEY_TTL_MS
  const now = deps.clock.now().getTime()
  const deleted: number[] = []
  const pending: number[] = []
  for (const dek of await listDeks(deps.db, orgId, subjectId)) {
    if (dek.state !== 'retired') continue
    let used = 0
    for (const c of columns) used += await countUnderVersion(deps.db, c, orgId, subjectId, dek.version)
    if (deps.deleteRetired && used === 0 && dek.retired_at !== null && now - dek.retired_at >= grace) {
      await deleteDek(deps.db, orgId, subjectId, dek.version)
      deleted.push(dek.version)
    } else {
      pending.push(dek.version)
    }
  }
  return { reencrypted, deleted, pending }
}

function ownedColumns(registry: ColumnRegistry, orgId: string, subjectId: string): EncryptedColumn[] {
  return registry.list().filter((c) => (subjectId ? Boolean(c.subjectColumn) : !c.subjectColumn) && (c.orgId === undefined || c.orgId === orgId))
}

function scoped(db: Db, c: EncryptedColumn, orgId: string, subjectId: string) {
  let q = (db as unknown as Kysely<any>).selectFrom(c.table)
  if (c.orgColumn) q = q.where(c.orgColumn, '=', orgId)
  if (subjectId) q = q.where(c.subjectColumn!, '=', subjectId)
  return q
}

async function countUnderVersion(db: Db, c: EncryptedColumn, orgId: string, subjectId: string, version: number): Promise<number> {
  const r = await scoped(db, c, orgId, subjectId).select(sql<number>`count(*)`.as('n'))
    .where(c.column, 'like', `${dekVersionPrefix(version)}%`).executeTakeFirst()
  return Number(r?.n ?? 0)
}

async function reencryptColumn(deps: DekRotationDeps, c: EncryptedColumn, orgId: string, subjectId: string, to: number): Promise<number> {
  const batch = deps.batchSize ?? 200
  let after = ''
  let done = 0
  for (;;) {
    const rows = await scoped(deps.db, c, orgId, subjectId)
      .select([sql.ref(c.idColumn).as('id'), sql.ref(c.column).as('value')])
      .where(c.column, 'like', `${FORMAT_PREFIX}.%`)
      .where(c.column, 'not like', `${dekVersionPrefix(to)}%`)
      .where(c.idColumn, '>', after)
      .orderBy(c.idColumn).limit(batch).execute() as { id: string; value: string }[]
    if (rows.length === 0) return done
    for (const row of rows) {
      const ctx = { orgId, table: c.table, column: c.column, rowId: row.id, ...(subjectId ? { subjectId } : {}) }
      const fresh = await deps.envelope.encrypt(ctx, await deps.envelope.decrypt(ctx, row.value))
      const r = await (deps.db as unknown as Kysely<any>).updateTable(c.table).set({ [c.column]: fresh })
        .where(c.idColumn, '=', row.id).where(c.column, '=', row.value).executeTakeFirst()
      if (Number(r.numUpdatedRows) === 1) done++
    }
    after = rows[rows.length - 1].id
    deps.onProgress?.({ table: c.table, column: c.column, done })
    await new Promise((r) => setImmediate(r))
  }
}
