import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import type { ResponseHook } from '../http/pipeline.ts'
import type { AuditSigner } from './signer.ts'
import type { SyslogForwarder } from './syslog-forwarder.ts'
import { createAuditWriter, type AuditWriter, type AuditWriterOptions } from './writer.ts'
import { createAuditRecorder, createAuditResponseHook } from './recorder.ts'
import { createRetentionPolicies, purgeExpired, type RetentionPolicies, type RetentionSetting } from './retention.ts'
import { verifyAudit, type VerifyResult } from './verify.ts'
import { selectEvents, toView, encodeCursor, decodeCursor, usTimestamp, type AuditFilter, type AuditEventView } from './query.ts'

export interface AuditService {
  recorder: AuditRecorder
  responseHook: ResponseHook
  writer: AuditWriter
  forwarder: SyslogForwarder | null
  retention: RetentionPolicies
  list(p: Principal, f: AuditFilter & { cursor?: string; limit?: number }): Promise<{ data: AuditEventView[]; nextCursor: string | null }>
  exportLines(p: Principal, f: AuditFilter & { timeFormat?: 'iso' | 'us' }, meta: { ip?: string; requestId?: string }): AsyncGenerator<string>
  setRetention(p: Principal, input: { preset?: string; days?: number }, meta: { ip?: string; requestId?: string }): Promise<RetentionSetting>
  verify(opts?: { chainId?: string }): Promise<VerifyResult>
  purgeExpired(): ReturnType<typeof purgeExpired>
  /** Applies retention periodically (worker role); failures go to onError. */
  startPurgeSchedule(everyMs?: number): { stop(): void }
  close(): Promise<void>
}

export interface AuditServiceDeps {
  db: Db
  signer: AuditSigner
  clock: Clock
  writer?: Partial<AuditWriterOptions>
  /** SIEM streaming: every flushed batch is handed to it. */
  forwarder?: SyslogForwarder | null
  /** Where background failures (flush, SIEM) are reported; never thrown at a caller. */
  onError?: (what: string, err: unknown) => void
}

export function createAuditService(deps: AuditServiceDeps): AuditService {
  const { db, signer, clock } = deps
  const writer = createAuditWriter({ db, signer, clock, onError: (err) => deps.onError?.('audit: writing events failed; they stay buffered and are retried', err), ...deps.writer })
  const forwarder = deps.forwarder ?? null
  if (forwarder) writer.onFlushed((rows) => forwarder.send(rows))
  const recorder = createAuditRecorder(writer, clock)
  const retention = createRetentionPolicies({ db, clock })

  async function* exportGenerator(p: Principal, f: AuditFilter & { timeFormat?: 'iso' | 'us' }, meta: { ip?: string; requestId?: string }): AsyncGenerator<string> {
    recorder.record({ orgId: p.orgId, actor: p.actor, action: 'audit.exported', details: { filter: { ...f } }, ip: meta.ip, requestId: meta.requestId })
    let after = 0
    for (;;) {
      const rows = await selectEvents(db, p.orgId, f, { afterSeq: after, limit: 500, order: 'asc' })
      for (const r of rows) {
        const v = toView(r)
        yield JSON.stringify(f.timeFormat === 'us' ? { ...v, timestamp: usTimestamp(v.timestamp) } : v) + '\n'
      }
      if (rows.length < 500) return
      after = Number(rows[rows.length - 1].seq)
    }
  }

  return {
    recorder,
    responseHook: createAuditResponseHook(writer, clock),
    writer,
    retention,
    async list(p, f) {
      const limit = f.limit ?? 50
      const rows = await selectEvents(db, p.orgId, f, { beforeSeq: f.cursor ? decodeCursor(f.cursor) : undefined, limit: limit + 1, order: 'desc' })
      const page = rows.slice(0, limit)
      return { data: page.map(toView), nextCursor: rows.length > limit ? encodeCursor(Number(page[page.length - 1].seq)) : null }
    },
    exportLines(p, f, meta) {
      return exportGenerator(p, f, meta)
    },
    async setRetention(p, input, meta) {
      const before = await retention.get(p.orgId)
      const after = await retention.set(p.orgId, input, p.actor.id)
      recorder.record({ orgId: p.orgId, actor: p.actor, action: 'audit.retention_changed', details: { from: before, to: after }, ip: meta.ip, requestId: meta.requestId })
      return after
    },
    verify: (opts) => verifyAudit(db, signer, opts),
    purgeExpired: () => purgeExpired({ db, signer, clock, policies: retention }),
    startPurgeSchedule(everyMs = 3_600_000) {
      const timer = setInterval(() => {
        purgeExpired({ db, signer, clock, policies: retention }).catch((err) => deps.onError?.('audit: retention purge failed', err))
      }, everyMs)
      timer.unref()
      return { stop: () => clearInterval(timer) }
    },
    forwarder,
    async close() {
      await writer.close()
      await forwarder?.close()
    },
  }
}
