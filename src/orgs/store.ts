import type { DbOrTrx } from '../storage/db.ts'

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
