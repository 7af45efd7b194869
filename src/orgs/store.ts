import type { Db, DbOrTrx } from '../storage/db.ts'
import { isPostgres } from '../storage/dialects.ts'

export async function insertOrg(db: DbOrTrx, org: { id: string; name: string; created_at: number; settings?: object }): Promise<void> {
  await db.insertInto('orgs').values({ ...org, settings: JSON.stringify(org.settings ?? {}) }).execute()
}

export async function findOrg(db: DbOrTrx, id: string) {
  return db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function countOrgs(db: DbOrTrx): Promise<number> {
  const r = await db.selectFrom('orgs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Merges `patch` into the org's settings JSON (row-locked on PostgreSQL so concurrent writers do not lose updates). */
export async function mergeOrgSettings(db: Db, orgId: string, patch: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  return db.transaction().execute(async (trx) => {
    const q = trx.selectFrom('orgs').select('settings').where('id', '=', orgId)
    const row = await (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst()
    if (!row) return null
    const settings = { ...JSON.parse(row.settings), ...patch }
    for (const [k, v] of Object.entries(patch)) if (v === null) delete settings[k]
    await trx.updateTable('orgs').set({ settings: JSON.stringify(settings) }).where('id', '=', orgId).execute()
    return settings
  })
}
