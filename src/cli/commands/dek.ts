/**
 * `npm run cli -- dek rotate --org <id> [--subject <id>] | --all`: data-key
 * rotation. Starts a new DEK version, re-encrypts every registered encrypted
 * column in batches (servers keep running), and deletes the old DEK once nothing
 * uses it, the grace period (other processes' cached key) has passed and
 * --delete-old-keys confirms every encrypted column is registered; `dek finish` completes that later.
 */
import { parseArgs } from 'node:util'
import { openRuntime } from '../../boot.ts'
import { buildApp } from '../../app.ts'
import { rotateOwnerDek, finishDekRotation, type DekRotationResult } from '../../crypto/dek-rotation.ts'
import { listOrgKeyOwners } from '../../crypto/dek-store.ts'

export const summary = 'data keys: rotate | finish  (--org ID [--subject ID] | --all)'

export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { org: { type: 'string' }, subject: { type: 'string' }, all: { type: 'boolean' }, batch: { type: 'string' }, 'delete-old-keys': { type: 'boolean' } },
  })
  const cmd = positionals[0]
  if (!['rotate', 'finish'].includes(cmd ?? '') || (!values.org && !values.all) || (values.all && values.subject)) {
    console.error('usage: npm run cli -- dek <rotate|finish> (--org ID [--subject ID] | --all) [--batch N] [--delete-old-keys]\n  --delete-old-keys  delete retired keys no registered column uses; only when every encrypted column is registered (app.ts cryptoColumns)')
    return 2
  }
  const rt = await openRuntime(process.env, { createSecrets: false })
  const app = await buildApp({ ...rt })
  try {
    const deps = {
      db: rt.storage.db, envelope: app.envelope, registry: app.cryptoColumns, clock: app.deps.clock,
      deleteRetired: values['delete-old-keys'] === true,
      batchSize: values.batch ? Math.max(1, Number(values.batch)) : undefined,
      onProgress: (p: { table: string; column: string; done: number }) => process.stderr.write(`\r  ${p.table}.${p.column}: ${p.done} row(s) re-encrypted`),
    }
    const owners = values.all ? (await listOrgKeyOwners(rt.storage.db)).map((org) => ({ org, subject: '' })) : [{ org: values.org!, subject: values.subject ?? '' }]
    for (const { org, subject } of owners) {
      const label = subject ? `${org} / ${subject}` : org
      const r: Partial<DekRotationResult> = cmd === 'rotate' ? await rotateOwnerDek(deps, org, subject) : await finishDekRotation(deps, org, subject)
      process.stderr.write('\n')
      console.log(`${label}: ${r.to ? `v${r.from ?? '-'} → v${r.to}, ` : ''}${r.reencrypted} row(s) re-encrypted` +
        `${r.deleted?.length ? `, deleted v${r.deleted.join(', v')}` : ''}${r.pending?.length ? `; v${r.pending.join(', v')} kept (still in use, grace period not over, or no --delete-old-keys)` : ''}`)
    }
    return 0
  } finally {
    await app.close()
    await rt.storage.close()
  }
}
