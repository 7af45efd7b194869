import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Db } from '../storage/db.ts'
import type { NewAuditEventRow } from './table.ts'
import type { AuditSigner } from './signer.ts'
import { hashEvent, checkpointStatement, SYSTEM_CHAIN } from './chain.ts'
import { lockChainHead, saveChainHead, insertEvents, insertCheckpoint } from './store.ts'

/** One event before it joins a chain (no seq or hashes yet). */
export interface AuditInput {
  orgId: string | null
  at: Date
  action: string
  actor?: { type: string; id: string } | null
  method?: string | null
  route?: string | null
  path?: string | null
  status?: number | null
  ip?: string | null
  userAgent?: string | null
  requestId?: string | null
  durationMs?: number | null
  authFailure?: string | null
  target?: { type: string; id: string } | null
  outcome?: string | null
  /** Already redacted. */
  details?: Record<string, unknown> | null
}

export interface AuditWriterOptions {
  db: Db
  signer: AuditSigner
  clock: Clock
  /** Flush when this many events are buffered. */
  batchSize?: number
  /** Flush at most this long after the first buffered event. */
  flushMs?: number
  /** Sign a checkpoint after this many events in a chain, or this long after the last one. */
  checkpointEvery?: number
  checkpointMs?: number
  /** Buffer bound while the database is unreachable; beyond it the oldest events are dropped and counted. */
  maxBuffered?: number
  onError?: (err: unknown) => void
}

export interface AuditWriter {
  append(e: AuditInput): void
  flush(): Promise<void>
  /** Flushes, then signs a checkpoint on every chain this process wrote to whose newest event is unsigned. */
  checkpoint(): Promise<void>
  /** Flushes everything and signs a checkpoint on every chain this process wrote to. */
  close(): Promise<void>
  onFlushed(listener: (rows: NewAuditEventRow[]) => void): void
  stats(): { buffered: number; written: number; dropped: number; failedFlushes: number }
}

interface Pending { id: string; input: AuditInput }

export function createAuditWriter(opts: AuditWriterOptions): AuditWriter {
  const batchSize = opts.batchSize ?? 200
  const flushMs = opts.flushMs ?? 250
  const checkpointEvery = opts.checkpointEvery ?? 500
  const checkpointMs = opts.checkpointMs ?? 60_000
  const maxBuffered = opts.maxBuffered ?? 100_000
  const listeners: ((rows: NewAuditEventRow[]) => void)[] = []
  let buffer: Pending[] = []
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> = Promise.resolve()
  let closed = false
  const touched = new Set<string>()
  const counters = { written: 0, dropped: 0, failedFlushes: 0 }

  function schedule() {
    if (timer || closed) return
    timer = setTimeout(() => { timer = null; void flush() }, flushMs)
    timer.unref()
  }

  function append(input: AuditInput): void {
    buffer.push({ id: newId('aud', input.at.getTime()), input })
    if (buffer.length > maxBuffered) {
      const over = buffer.length - maxBuffered
      buffer.splice(0, over)
      counters.dropped += over
    }
    if (buffer.length >= batchSize) void flush()
    else schedule()
  }

  /** Flushes are serialized: each waits for the previous one, so chains are extended in order. */
  function flush(force = false): Promise<void> {
    running = running.then(() => flushNow(force))
    return running
  }

  async function flushNow(force: boolean): Promise<void> {
    if (timer) { clearTimeout(timer); timer = null }
    while (buffer.length) {
      const batch = buffer
      buffer = []
      const { written, unwritten, error } = await writeBatch(batch, force)
      counters.written += written.length
      if (written.length) {
        for (const l of listeners) {
          try { l(written) } catch (err) { opts.onError?.(err) }
        }
      }
      if (error) {
        // Keep what was not written (in order) and try again on the next flush.
        buffer = unwritten.concat(buffer)
        counters.failedFlushes++
        opts.onError?.(error)
        if (!closed) schedule()
        return
      }
    }
    if (force) await checkpointTouched()
  }

  async function writeBatch(batch: Pending[], force: boolean): Promise<{ written: NewAuditEventRow[]; unwritten: Pending[]; error: unknown }> {
    const byChain = new Map<string, Pending[]>()
    for (const p of batch) {
      const chain = p.input.orgId ?? SYSTEM_CHAIN
      const list = byChain.get(chain)
      if (list) list.push(p)
      else byChain.set(chain, [p])
    }
    const out: NewAuditEventRow[] = []
    const chains = [...byChain]
    for (let i = 0; i < chains.length; i++) {
      const [chainId, events] = chains[i]
      let rows: NewAuditEventRow[]
      try {
        rows = await appendToChain(chainId, events, force)
      } catch (error) {
        return { written: out, unwritten: chains.slice(i).flatMap(([, e]) => e), error }
      }
      touched.add(chainId)
      out.push(...rows)
    }
    return { written: out, unwritten: [], error: null }
  }

  function appendToChain(chainId: string, events: Pending[], force: boolean): Promise<NewAuditEventRow[]> {
    return opts.db.transaction().execute(async (trx) => {
      const now = opts.clock.now().getTime()
      const head = await lockChainHead(trx, chainId, now)
      let prev = head.hash
      let seq = Number(head.seq)
      const rows = events.map((p) => {
        const row = toRow(p, chainId, ++seq, prev)
        prev = row.hash
        return row
      })
      await insertEvents(trx, rows)
      let since = head.events_since_checkpoint + rows.length
      let lastAt = Number(head.last_checkpoint_at)
      if (force || since >= checkpointEvery || now - lastAt >= checkpointMs) {
        await signCheckpoint(trx, chainId, rows[rows.length - 1], now)
        since = 0
        lastAt = now
      }
      await saveChainHead(trx, { chain_id: chainId, seq, hash: prev, events_since_checkpoint: since, last_checkpoint_at: lastAt })
      return rows
    })
  }

  async function signCheckpoint(trx: Parameters<typeof insertCheckpoint>[0], chainId: string, last: { id: string; seq: number; hash: string }, now: number) {
    const c = { chain_id: chainId, kind: 'checkpoint' as const, seq: last.seq, event_id: last.id, event_hash: last.hash, created_at: now, details: null }
    await insertCheckpoint(trx, { id: newId('ack', now), ...c, key_id: opts.signer.keyId, signature: opts.signer.sign(checkpointStatement(c)) })
  }

  /** On shutdown: a checkpoint on each chain whose newest events are not yet signed. */
  async function checkpointTouched() {
    for (const chainId of touched) {
      await opts.db.transaction().execute(async (trx) => {
        const now = opts.clock.now().getTime()
        const head = await lockChainHead(trx, chainId, now)
        if (head.events_since_checkpoint === 0 || Number(head.seq) === 0) return
        const last = await trx.selectFrom('audit_events').select(['id', 'seq', 'hash'])
          .where('chain_id', '=', chainId).where('seq', '=', head.seq).executeTakeFirst()
        if (!last) return
        await signCheckpoint(trx, chainId, { id: last.id, seq: Number(last.seq), hash: last.hash }, now)
        await saveChainHead(trx, { ...head, seq: Number(head.seq), events_since_checkpoint: 0, last_checkpoint_at: now })
      })
    }
  }

  return {
    append,
    flush: () => flush(false),
    checkpoint: () => flush(true),
    async close() {
      closed = true
      await flush(true)
    },
    onFlushed: (l) => { listeners.push(l) },
    stats: () => ({ buffered: buffer.length, ...counters }),
  }
}

function toRow(p: Pending, chainId: string, seq: number, prevHash: string): NewAuditEventRow & { hash: string; seq: number } {
  const e = p.input
  const row = {
    id: p.id,
    chain_id: chainId,
    seq,
    org_id: e.orgId,
    ts: e.at.toISOString(),
    occurred_at: e.at.getTime(),
    action: e.action,
    actor_type: e.actor?.type ?? null,
    actor_id: e.actor?.id ?? null,
    method: e.method ?? null,
    route: e.route ?? null,
    path: e.path ?? null,
    status: e.status ?? null,
    ip: e.ip ?? null,
    user_agent: e.userAgent ?? null,
    request_id: e.requestId ?? null,
    duration_ms: e.durationMs ?? null,
    auth_failure: e.authFailure ?? null,
    target_type: e.target?.type ?? null,
    target_id: e.target?.id ?? null,
    outcome: e.outcome ?? null,
    details: e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : null,
    prev_hash: prevHash,
    hash: '',
  }
  row.hash = hashEvent(row)
  return row
}
