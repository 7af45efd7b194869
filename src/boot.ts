/**
 * What every entry point (server, worker, CLI) does first: validated config,
 * the pepper, and migrated storage. Errors name the variable or file to fix.
 */
import { join } from 'node:path'
import { loadConfig, type Config } from './config/load.ts'
import { openStorage, type Storage } from './storage/db.ts'
import { loadPepper } from './keys/pepper.ts'
import { ensurePrivateDir } from './core/private-file.ts'

export interface Runtime { config: Config; storage: Storage; pepper: string; pepperCreated: boolean }

export async function openRuntime(env: Record<string, string | undefined>, opts: { createSecrets: boolean }): Promise<Runtime> {
  const config = loadConfig(env)
  // Keys, database and initial secrets live here: owner-only, refused when looser.
  ensurePrivateDir(config.dataDir)
  const { pepper, created } = loadPepper(config, { create: opts.createSecrets })
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    sqliteFile: join(config.dataDir, 'sealpost.sqlite'),
    poolSize: config.databasePoolSize,
  })
  return { config, storage, pepper, pepperCreated: created }
}
