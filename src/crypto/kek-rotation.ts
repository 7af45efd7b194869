/**
 * KEK rotation, online: add a KEK version (new DEKs are wrapped by it at once),
 * re-wrap every stored DEK in batches (data rows are untouched: the ciphertext
 * names only the DEK version), then retire a KEK version only when no DEK is
 * wrapped by it any more. Reads and writes keep working throughout: a DEK row is
 * always wrapped by some version the provider still holds, and processes keep
 * their unwrapped DEKs in memory.
 */
import type { Db } from '../storage/db.ts'
import type { Clock } from '../core/clock.ts'
import type { KeyProvider } from './key-provider.ts'
import { dekAad } from './format.ts'
import { countDeksByKek, listDeksNotWrappedBy, rewrapDekRow } from './dek-store.ts'
import { CryptoError } from './errors.ts'

export interface RewrapProgress { target: string; done: number; total: number }

export interface RotationDeps {
  db: Db
  provider: KeyProvider
  clock: Clock
  batchSize?: number
  onProgress?: (p: RewrapProgress) => void
}

/** Re-wraps every DEK not wrapped by the provider's current version. Resumable: run it again after a crash. */
export async function rewrapAllDeks(deps: RotationDeps): Promise<{ target: string; rewrapped: number }> {
  const { db, provider, clock } = deps
  const batch = deps.batchSize ?? 200
  const target = await provider.currentVersion()
  let rewrapped = 0
  // A process that read the old current version just before rotation may still insert a DEK under it: sweep again.
  for (let pass = 0; pass < 10; pass++) {
    const total = remaining(await countDeksByKek(db), target)
    if (total === 0) break
    let done = 0
    let after = ''
    for (;;) {
      const rows = await listDeksNotWrappedBy(db, target, after, batch)
      if (rows.length === 0) break
      for (const row of rows) {
        const dek = await provider.unwrap(row.kek_version, Buffer.from(row.wrapped, 'base64'), dekAad(row))
        try {
          const wrapped = await provider.wrap(target, dek, dekAad(row))
          // Guarded by the old version: a row shredded or re-wrapped meanwhile is simply skipped.
          if (await rewrapDekRow(db, row.id, row.kek_version, target, wrapped.toString('base64'), clock.now().getTime())) rewrapped++
        } finally {
          dek.fill(0)
        }
        done++
      }
      after = rows[rows.length - 1].id
      deps.onProgress?.({ target, done, total: Math.max(total, done) })
      await new Promise((r) => setImmediate(r)) // let request handlers in this process run between batches
    }
  }
  return { target, rewrapped }
}

/** Destroys every non-current KEK version that no DEK uses; reports the ones still in use. */
export async function retireUnusedKeks(deps: Pick<RotationDeps, 'db' | 'provider'>): Promise<{ retired: string[]; inUse: Record<string, number>; kept: Record<string, string> }> {
  const current = await deps.provider.currentVersion()
  const counts = await countDeksByKek(deps.db)
  const retired: string[] = []
  const inUse: Record<string, number> = {}
  const kept: Record<string, string> = {}
  for (const v of await deps.provider.listVersions()) {
    if (v === current) continue
    const n = counts.get(v) ?? 0
    if (n > 0) { inUse[v] = n; continue }
    try {
      await deps.provider.destroyVersion(v)
      retired.push(v)
    } catch (e) {
      if (!(e instanceof CryptoError && e.code === 'kek_readonly')) throw e
      kept[v] = e.message // e.g. SEALPOST_MASTER_KEY: the operator removes it from the variable
    }
  }
  return { retired, inUse, kept }
}

/** The whole rotation: new version → re-wrap every DEK → retire what nothing uses. */
export async function rotateKek(deps: RotationDeps): Promise<{ from: string; to: string; rewrapped: number; retired: string[]; inUse: Record<string, number>; kept: Record<string, string> }> {
  const from = await deps.provider.currentVersion()
  const to = await deps.provider.addVersion()
  const { rewrapped } = await rewrapAllDeks(deps)
  return { from, to, rewrapped, ...(await retireUnusedKeks(deps)) }
}

function remaining(counts: Map<string, number>, target: string): number {
  let n = 0
  for (const [v, c] of counts) if (v !== target) n += c
  return n
}
