import { readFileSync } from 'node:fs'
import type { Config } from '../config/load.ts'
import type { Clock } from '../core/clock.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import { loadAuditSigner } from './signer.ts'
import { createSyslogForwarder } from './syslog-forwarder.ts'
import { createAuditService, type AuditService } from './service.ts'

/** Builds the audit service from the configuration (batching, SIEM forwarding, sealed signing key). */
export async function setupAudit(deps: { config: Config; db: Db; clock: Clock; cipher: FieldCipher; onError: (what: string, err: unknown) => void }): Promise<AuditService> {
  const { config } = deps
  const forwarder = config.audit.syslogUrl
    ? createSyslogForwarder({
      url: config.audit.syslogUrl,
      ca: config.audit.syslogCaFile ? readFileSync(config.audit.syslogCaFile) : undefined,
      onError: (err) => deps.onError('audit: SIEM forwarding failed; events stay queued and the connection is retried', err),
    })
    : null
  return createAuditService({
    db: deps.db, clock: deps.clock,
    signer: await loadAuditSigner({ dataDir: config.dataDir, cipher: deps.cipher }),
    writer: { flushMs: config.audit.flushMs, batchSize: config.audit.flushEvents },
    forwarder,
    onError: deps.onError,
  })
}
