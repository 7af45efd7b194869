/**
 * Housekeeping on a timer, in the process role that runs workers (`worker`, `all`):
 * old sessions and brute-force counters, audit retention, expired idempotency keys,
 * ended delivery pauses. (OAuth purges its own expired artifacts in oauth/service.ts.)
 *
 * - one tick runs the tasks one after another; a failing task is logged and the
 *   others still run (the next tick retries it);
 * - ticks never overlap: a tick still running when the timer fires is left alone;
 * - the timer is unref'd, so it never keeps a process alive on its own.
 */
import { DAY, type Clock } from './core/clock.ts'
import type { Db } from './storage/db.ts'
import type { AuditService } from './audit/service.ts'
import type { Users } from './users/module.ts'
import type { SqlQueue } from './queue/sql-queue.ts'
import { pruneIdempotencyKeys } from './messages/idempotency.ts'
import { purgeMessagesBefore } from './messages/store.ts'
import { activeHolds, heldMessages } from './legal-hold/store.ts'
import { idsDigest, recordPurge } from './legal-hold/purge-record.ts'

export const DEFAULT_MAINTENANCE_EVERY_MS = 15 * 60_000

export interface MaintenanceTask { name: string; run(): Promise<unknown> }

export interface MaintenanceLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface Maintenance {
  /** One run of every task (what the timer calls); joins the run in progress instead of starting another. */
  tick(): Promise<void>
  start(): void
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>
}

export function createMaintenance(deps: { tasks: MaintenanceTask[]; everyMs?: number; log: MaintenanceLog }): Maintenance {
  const everyMs = deps.everyMs ?? DEFAULT_MAINTENANCE_EVERY_MS
  let running: Promise<void> | null = null
  let timer: NodeJS.Timeout | null = null

  async function runAll(): Promise<void> {
    for (const task of deps.tasks) {
      try {
        await task.run()
      } catch (err) {
        deps.log.error({ err, task: task.name }, `maintenance: ${task.name} failed; retried at the next run`)
      }
    }
  }

  function tick(): Promise<void> {
    running ??= runAll().finally(() => { running = null })
    return running
  }

  return {
    tick,
    start() {
      if (timer || everyMs <= 0) return
      timer = setInterval(() => { if (!running) void tick() }, everyMs)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await running
    },
  }
}

/** The housekeeping every domain exposes, as tasks. */
export function maintenanceTasks(deps: { db: Db; clock: Clock; users: Users; audit: AuditService; queue: SqlQueue; log: MaintenanceLog }): MaintenanceTask[] {
  return [
    { name: 'users.prune', run: () => deps.users.prune() },
    { name: 'idempotency_keys', run: () => pruneIdempotencyKeys(deps.db, deps.clock.now().getTime()) },
    { name: 'delivery_domain_pauses', run: () => deps.queue.pruneExpiredPauses() },
    {
      // The organization's audit retention setting applies to message content and events too.
      name: 'messages.retention',
      async run() {
        for (const { id } of await deps.db.selectFrom('orgs').select('id').execute()) {
          const before = deps.clock.now().getTime() - (await deps.audit.retention.retentionDays(id)) * DAY
          const held = heldMessages(await activeHolds(deps.db, id))
          if (held.all) continue // an organization-wide legal hold suspends retention
          const deleted: { id: string; created_at: number }[] = []
          let purged = 0
          let n: number
          do { n = await purgeMessagesBefore(deps.db, id, before, 1000, { held, deleted }); purged += n } while (n > 0)
          if (!purged) continue
          const from = deleted.reduce((m, d) => Math.min(m, d.created_at), Infinity)
          const to = deleted.reduce((m, d) => Math.max(m, d.created_at), -Infinity)
          recordPurge(deps.audit.writer, id, deps.clock.now(), {
            what: 'messages', count: purged, cutoff: new Date(before).toISOString(),
            range: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
            ids_sha256: idsDigest(deleted.map((d) => d.id)),
          })
          deps.log.info({ orgId: id, purged }, 'message retention: messages and their events deleted')
        }
      },
    },
    {
      name: 'audit.retention',
      async run() {
        for (const r of await deps.audit.purgeExpired()) {
          // A range that does not verify is never deleted: that is evidence of tampering, not a routine failure.
          if (r.held) deps.log.info({ chainId: r.chainId }, 'audit retention: suspended by a legal hold')
          else if (r.refused) deps.log.error({ chainId: r.chainId, problem: r.refused }, 'audit retention: the range to purge does not verify; nothing deleted')
          else deps.log.info({ chainId: r.chainId, purged: r.purged, anchorSeq: r.anchorSeq }, 'audit retention: events purged, signed anchor written')
        }
      },
    },
  ]
}
