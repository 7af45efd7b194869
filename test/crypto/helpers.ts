import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStorage, type Storage } from '../../src/storage/db.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import { createTestClock, type TestClock } from '../../src/core/clock.ts'
import { createEnvelope, type Envelope } from '../../src/crypto/envelope.ts'
import { LocalKeyProvider } from '../../src/crypto/local-provider.ts'
import { ensureLocalKeyfile } from '../../src/crypto/keyfile.ts'
import type { KeyProvider } from '../../src/crypto/key-provider.ts'
import { PG_URL, createPgSchema } from '../helpers/dialects.ts'

export interface CryptoFixture {
  storage: Storage
  provider: KeyProvider
  envelope: Envelope
  clock: TestClock
  dataDir: string
  keyfile: string
  /** A second envelope over the same database and keyfile: another process. */
  reopen(): Promise<Envelope>
  close(): Promise<void>
}

/** Storage + a keyfile-backed local provider + an envelope, on one dialect. */
export async function cryptoFixture(dialect: DialectName, opts: { provider?: KeyProvider } = {}): Promise<CryptoFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-crypto-'))
  const pg = dialect === 'postgres' ? await createPgSchema() : null
  const storage = await openStorage({ databaseUrl: pg ? PG_URL : undefined, sqliteFile: join(dataDir, 'sealpost.sqlite'), pgSchema: pg?.schema, poolSize: 5 })
  const { path: keyfile } = ensureLocalKeyfile(dataDir)
  const provider = opts.provider ?? new LocalKeyProvider({ kind: 'file', path: keyfile })
  const clock = createTestClock(new Date())
  const envelope = await createEnvelope({ db: storage.db, provider, clock })
  return {
    storage, provider, envelope, clock, dataDir, keyfile,
    reopen: () => createEnvelope({ db: storage.db, provider, clock }),
    async close() {
      if (!opts.provider) await provider.close()
      await storage.close()
      await pg?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
