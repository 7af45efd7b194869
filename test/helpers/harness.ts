import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { loadConfig, type Config } from '../../src/config/load.ts'
import { openStorage } from '../../src/storage/db.ts'
import { buildApp, type AppDeps, type Sealpost } from '../../src/app.ts'
import { createTestClock, type TestClock } from '../../src/core/clock.ts'
import { newId } from '../../src/core/ids.ts'
import { insertOrg } from '../../src/orgs/store.ts'
import { createKey } from '../../src/keys/service.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import { PG_URL, createPgSchema } from './dialects.ts'

export interface TestApp {
  app: Sealpost
  http: Sealpost['http']
  db: Sealpost['deps']['storage']['db']
  clock: TestClock
  config: Config
  dataDir: string
  seedOrg(name?: string, scopes?: readonly string[]): Promise<SeededOrg>
  /** Adds a sending domain (RSA DKIM key by default) to an org, as its owner would: publishes its records in `dns` and verifies it, unless `verified: false` (it stays pending). */
  seedDomain(orgId: string, name: string, algorithm?: 'rsa' | 'ed25519', opts?: { verified?: boolean }): Promise<{ id: string; status: string; records: { name: string; value: string; purpose: string }[] }>
  /** The in-test DNS zone domain verification reads first (TXT name → records), before deps.dnsResolver if one was given. */
  dns: Map<string, string[][]>
  /** Adds records to `dns` (several records at one name are kept side by side, as in DNS). */
  publish(records: { name: string; value: string }[]): void
  close(): Promise<void>
}

export interface SeededOrg { orgId: string; liveKey: string; testKey: string; liveKeyId: string; testKeyId: string }

export async function buildTestApp(opts: { dialect?: DialectName; env?: Record<string, string>; clock?: TestClock; logStream?: NodeJS.WritableStream; deps?: Partial<AppDeps> } = {}): Promise<TestApp> {
  const dialect = opts.dialect ?? 'sqlite'
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-test-'))
  const pgSchema = dialect === 'postgres' ? await createPgSchema() : null
  const config = loadConfig({
    SEALPOST_DATA_DIR: dataDir,
    SEALPOST_LOG_LEVEL: opts.logStream ? 'info' : 'silent',
    // Load shedding reacts to the whole machine's load: on a CI machine running two test files at once it
    // would answer 503 to tests about something else. test/availability/load-shedding.test.ts turns it on.
    SEALPOST_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...(dialect === 'postgres' ? { DATABASE_URL: PG_URL } : {}),
    ...opts.env,
  })
  const storage = await openStorage({
    databaseUrl: config.databaseUrl, sqliteFile: join(dataDir, 'sealpost.sqlite'),
    pgSchema: pgSchema?.schema, poolSize: 5,
  })
  const clock = opts.clock ?? createTestClock(new Date())
  const pepper = randomBytes(32).toString('hex')
  const dns = new Map<string, string[][]>()
  const fallback = opts.deps?.dnsResolver
  const dnsResolver = { resolveTxt: async (n: string) => dns.get(n) ?? (fallback ? fallback.resolveTxt(n) : []) }
  const app = await buildApp({ ...opts.deps, dnsResolver, config, storage, pepper, clock, logStream: opts.logStream })
  const publish = (records: { name: string; value: string }[]) => {
    for (const r of records) dns.set(r.name, [...(dns.get(r.name) ?? []), [r.value]])
  }

  return {
    app, http: app.http, db: storage.db, clock, config, dataDir, dns, publish,
    async seedOrg(name = 'Acme', scopes = ALL_SCOPES) {
      const orgId = newId('org')
      await insertOrg(storage.db, { id: orgId, name, created_at: clock.now().getTime() })
      const live = await createKey(storage.db, pepper, clock, { orgId, name: 'live', environment: 'live', scopes })
      const test = await createKey(storage.db, pepper, clock, { orgId, name: 'test', environment: 'test', scopes })
      return { orgId, liveKey: live.secret, testKey: test.secret, liveKeyId: live.id, testKeyId: test.id }
    },
    async seedDomain(orgId, name, algorithm = 'rsa', { verified = true } = {}) {
      const owner = { orgId, actor: { type: 'user' as const, id: 'usr_seed' }, scopes: ALL_SCOPES, environment: 'live' as const, credentialId: 'seed' }
      const created = await app.domains.create(owner, { name, dkim_algorithm: algorithm })
      if (!verified) return created
      publish(created.records)
      const checked = await app.domains.verify(owner, created.id)
      if (checked.status !== 'verified') throw new Error(`seedDomain: ${name} did not verify: ${JSON.stringify(checked.last_check)}`)
      return checked
    },
    async close() {
      await app.close()
      await storage.close()
      await pgSchema?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
