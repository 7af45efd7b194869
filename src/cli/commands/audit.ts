/**
 * `npm run cli -- audit <verify|purge>`: checks the tamper-evident audit log,
 * and applies retention. `verify` needs only the public keys in the data dir.
 */
import { join } from 'node:path'
import { loadConfig } from '../../config/load.ts'
import { openStorage } from '../../storage/db.ts'
import { systemClock } from '../../core/clock.ts'
import { openKeyProvider } from '../../crypto/open-provider.ts'
import { createEnvelope } from '../../crypto/envelope.ts'
import { loadAuditSigner, loadAuditVerifier } from '../../audit/signer.ts'
import { verifyAudit } from '../../audit/verify.ts'
import { purgeExpired, createRetentionPolicies } from '../../audit/retention.ts'

export const summary = 'audit log: verify [--org ORG_ID] | purge (apply retention)'

const usage = `usage: npm run cli -- audit <command>
  verify [--org ORG_ID]   walk every hash chain (or one organization's) and its signed checkpoints;
                          names the first event that was modified, deleted, inserted or reordered
  purge                   delete events past each organization's retention, leaving signed anchors`

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd !== 'verify' && cmd !== 'purge') {
    console.error(usage)
    return 2
  }
  const orgFlag = rest.indexOf('--org')
  const chainId = orgFlag >= 0 ? rest[orgFlag + 1] : undefined
  if (orgFlag >= 0 && !chainId) { console.error(usage); return 2 }

  const config = loadConfig(process.env)
  const storage = await openStorage({ databaseUrl: config.databaseUrl, sqliteFile: join(config.dataDir, 'sealpost.sqlite'), poolSize: 2 })
  try {
    if (cmd === 'verify') {
      const result = await verifyAudit(storage.db, loadAuditVerifier(config.dataDir), { chainId })
      for (const p of result.problems) {
        console.log(`FAIL ${p.chainId}: ${p.kind}${p.eventId ? ` event ${p.eventId}` : ''}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.message}`)
      }
      console.log(`${result.ok ? 'OK' : 'TAMPERED'}: ${result.chains} chain(s), ${result.events} event(s), ${result.checkpoints} signed checkpoint(s) checked`)
      return result.ok ? 0 : 1
    }
    const provider = await openKeyProvider(config, { createKeyfile: false })
    try {
      const envelope = await createEnvelope({ db: storage.db, provider, clock: systemClock })
      const signer = await loadAuditSigner({ dataDir: config.dataDir, cipher: envelope })
      const reports = await purgeExpired({ db: storage.db, signer, clock: systemClock, policies: createRetentionPolicies({ db: storage.db, clock: systemClock }) })
      let refused = 0
      for (const r of reports) {
        if (r.refused) { refused++; console.log(`REFUSED ${r.chainId}: the range to purge does not verify (${r.refused.kind} ${r.refused.eventId ?? ''}); nothing deleted`) }
        else console.log(`purged ${r.purged} event(s) from ${r.chainId}; signed anchor at seq ${r.anchorSeq}`)
      }
      if (!reports.length) console.log('nothing past retention')
      return refused ? 1 : 0
    } finally {
      await provider.close()
    }
  } finally {
    await storage.close()
  }
}
