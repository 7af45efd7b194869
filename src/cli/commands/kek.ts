/**
 * `npm run cli -- kek <status|rotate|rewrap|retire|generate>`: key-encryption
 * key versions. Rotation is online: servers keep running; new DEKs use the new
 * version at once and this command re-wraps the stored ones with progress.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { loadConfig } from '../../config/load.ts'
import { openStorage } from '../../storage/db.ts'
import { systemClock } from '../../core/clock.ts'
import { openKeyProvider } from '../../crypto/open-provider.ts'
import { rewrapAllDeks, retireUnusedKeks, type RewrapProgress } from '../../crypto/kek-rotation.ts'
import { countDeksByKek } from '../../crypto/dek-store.ts'

export const summary = 'key-encryption keys: status | rotate | rewrap | retire | generate'

const usage = `usage: npm run cli -- kek <command>
  status     KEK versions in the provider and how many data keys each wraps
  rotate     add a KEK version, re-wrap every data key (online), retire versions nothing uses
  rewrap     resume an interrupted rotation: re-wrap data keys not under the current version, then retire
  retire     destroy KEK versions no data key uses
  generate   print a fresh 256-bit key for SEALPOST_MASTER_KEY (nothing is stored)`

export async function run(argv: string[]): Promise<number> {
  const [cmd] = argv
  if (cmd === 'generate') {
    console.log(randomBytes(32).toString('base64'))
    return 0
  }
  if (!['status', 'rotate', 'rewrap', 'retire'].includes(cmd ?? '')) {
    console.error(usage)
    return 2
  }
  const config = loadConfig(process.env)
  const storage = await openStorage({ databaseUrl: config.databaseUrl, sqliteFile: join(config.dataDir, 'sealpost.sqlite'), poolSize: 2 })
  // Never create a keyfile here: a missing one means the wrong data dir, not a fresh install.
  const provider = await openKeyProvider(config, { createKeyfile: false })
  const deps = { db: storage.db, provider, clock: systemClock, onProgress: printProgress }
  try {
    if (cmd === 'rotate') {
      const from = await provider.currentVersion()
      const to = await provider.addVersion()
      console.log(`${provider.name}: added KEK ${to} (was ${from}); new data keys are wrapped by it now`)
    }
    if (cmd === 'rotate' || cmd === 'rewrap') {
      const { target, rewrapped } = await rewrapAllDeks(deps)
      process.stderr.write('\n')
      console.log(`re-wrapped ${rewrapped} data key(s) under ${target}`)
    }
    if (cmd !== 'status') {
      const { retired, inUse, kept } = await retireUnusedKeks(deps)
      for (const v of retired) console.log(`retired ${v} (destroyed: nothing used it)`)
      for (const [v, n] of Object.entries(inUse)) console.log(`kept ${v}: still wraps ${n} data key(s); run \`kek rewrap\``)
      for (const [v, why] of Object.entries(kept)) console.log(`${v} is unused but was not destroyed: ${why}`)
    }
    await printStatus(provider, storage.db)
    return 0
  } finally {
    await provider.close()
    await storage.close()
  }
}

function printProgress(p: RewrapProgress): void {
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100
  process.stderr.write(`\rre-wrapping data keys under ${p.target}: ${p.done}/${p.total} (${pct}%)`)
}

async function printStatus(provider: Awaited<ReturnType<typeof openKeyProvider>>, db: Parameters<typeof countDeksByKek>[0]): Promise<void> {
  const current = await provider.currentVersion()
  const counts = await countDeksByKek(db)
  console.log(`provider ${provider.name}, current KEK ${current}`)
  for (const v of await provider.listVersions()) console.log(`  ${v.padEnd(12)} ${String(counts.get(v) ?? 0).padStart(8)} data key(s)${v === current ? '  (current)' : ''}`)
  for (const [v, n] of counts) {
    if (!(await provider.listVersions()).includes(v)) console.log(`  ${v.padEnd(12)} ${String(n).padStart(8)} data key(s)  MISSING FROM THE PROVIDER: these cannot be unwrapped`)
  }
}
