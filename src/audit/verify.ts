import type { DbOrTrx } from '../storage/db.ts'
import type { AuditEventRow, AuditCheckpointRow } from './table.ts'
import type { AuditVerifier } from './signer.ts'
import { GENESIS_HASH, hashEvent, checkpointStatement } from './chain.ts'
import { PURGE_ACTION, purgeRecordProblem } from '../legal-hold/purge-record.ts'
import { listChains, eventsPage, checkpointsOf } from './store.ts'

export type ProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'rewritten' | 'bad_signature' | 'bad_purge_record'

export interface ChainProblem {
  chainId: string
  kind: ProblemKind
  /** The first event found wrong (for `deleted`: the event right after the gap), if any. */
  eventId: string | null
  seq: number | null
  message: string
}

export interface VerifyResult {
  ok: boolean
  chains: number
  events: number
  checkpoints: number
  problems: ChainProblem[]
}

const PAGE = 1000
/** How far ahead the classifier looks to tell an insertion or a swap from a deletion. */
const LOOKAHEAD = 64

/**
 * Walks every chain (or one) from its retention anchor, or genesis, to its head:
 *   - each event's hash is recomputed (a changed field or prev_hash → modified);
 *   - each event must link to the one before it; a broken link is classified by
 *     looking ahead: the next event links across it → inserted; a later event is
 *     its predecessor → reordered; otherwise → deleted (events missing before it);
 *   - every signed checkpoint must verify and match its event's hash; a mismatch
 *     on an otherwise consistent chain means the chain was rewritten and re-hashed;
 *   - the chain must end at its recorded head (else the newest events were deleted).
 * Reports the first problem of each chain.
 */
export async function verifyAudit(db: DbOrTrx, signer: AuditVerifier, opts: { chainId?: string; uptoSeq?: number } = {}): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, chains: 0, events: 0, checkpoints: 0, problems: [] }
  for (const chainId of await listChains(db, opts.chainId)) {
    result.chains++
    const problem = await verifyChain(db, signer, chainId, result, opts.uptoSeq)
    if (problem) { result.ok = false; result.problems.push(problem) }
  }
  return result
}

async function verifyChain(db: DbOrTrx, signer: AuditVerifier, chainId: string, totals: VerifyResult, uptoSeq?: number): Promise<ChainProblem | null> {
  const fail = (kind: ProblemKind, e: { id: string; seq: number } | null, message: string): ChainProblem =>
    ({ chainId, kind, eventId: e?.id ?? null, seq: e ? Number(e.seq) : null, message })

  const head = await db.selectFrom('audit_chain_heads').selectAll().where('chain_id', '=', chainId).executeTakeFirstOrThrow()
  const headSeq = uptoSeq ?? Number(head.seq)
  const marks = await checkpointsOf(db, chainId)
  for (const c of marks) {
    totals.checkpoints++
    if (!signer.verify(c.key_id, checkpointStatement(c), c.signature)) {
      return fail('bad_signature', null, `${c.kind} ${c.id} (seq ${c.seq}) has an invalid or untrusted signature`)
    }
  }
  const anchor = marks.filter((c) => c.kind === 'anchor').at(-1) ?? null
  const byEvent = new Map<string, AuditCheckpointRow[]>()
  for (const c of marks) if (c.kind === 'checkpoint' && (!anchor || c.seq > anchor.seq)) byEvent.set(c.event_id, [...(byEvent.get(c.event_id) ?? []), c])

  let expected = anchor ? anchor.event_hash : GENESIS_HASH
  let prevSeq = anchor ? Number(anchor.seq) : 0
  let prevId: string | null = anchor ? anchor.event_id : null
  let lastGoodCheckpointSeq = prevSeq
  /** The last events accepted, to recognise a link that skips back over inserted ones. */
  const recent: { id: string; seq: number; hash: string }[] = anchor ? [{ id: anchor.event_id, seq: Number(anchor.seq), hash: anchor.event_hash }] : []

  // A sliding window of rows, refilled a page at a time, so lookahead works across pages.
  let window: AuditEventRow[] = []
  let cursor = -1
  let exhausted = false
  const refill = async () => {
    while (!exhausted && window.length < LOOKAHEAD + 1) {
      const page = await eventsPage(db, chainId, cursor, PAGE)
      if (page.length < PAGE) exhausted = true
      if (page.length) cursor = Number(page[page.length - 1].seq)
      window.push(...page.filter((r) => Number(r.seq) <= headSeq))
      if (page.length && Number(page[page.length - 1].seq) > headSeq) exhausted = true
    }
  }

  await refill()
  while (window.length) {
    const row = window[0]
    totals.events++
    if (anchor && Number(row.seq) <= Number(anchor.seq)) {
      return fail('inserted', row, `event ${row.id} sits before the retention anchor (seq ${anchor.seq}): it was inserted after the purge`)
    }
    if (hashEvent(row) !== row.hash) {
      return fail('modified', row, `event ${row.id} (seq ${row.seq}) does not match its hash: it was modified`)
    }
    if (row.prev_hash !== expected) {
      const [next, ...later] = window.slice(1)
      if ([next, ...later].some((r) => r && r.hash === row.prev_hash)) {
        return fail('reordered', row, `event ${row.id} (seq ${row.seq}) is out of order: its predecessor comes after it`)
      }
      const back = recent.findIndex((r) => r.hash === row.prev_hash)
      if (back >= 0 && back < recent.length - 1) {
        // The chain resumes from an earlier event: what was accepted in between was slipped in.
        const first = recent[back + 1]
        return fail('inserted', first, `event ${first.id} (seq ${first.seq}) is not part of the chain: ${row.id} links to ${recent[back].id}, before it`)
      }
      if (next && next.prev_hash === expected && hashEvent(next) === next.hash) {
        return fail('inserted', row, `event ${row.id} (seq ${row.seq}) is not part of the chain: it was inserted after ${prevId ?? 'the start'}`)
      }
      return fail('deleted', row, `events are missing between ${prevId ?? 'the start'} and ${row.id} (seq ${prevSeq} → ${row.seq}): they were deleted`)
    }
    if (Number(row.seq) !== prevSeq + 1) {
      return fail('deleted', row, `events are missing between ${prevId ?? 'the start'} and ${row.id} (seq ${prevSeq} → ${row.seq}), and the chain was re-linked`)
    }
    // A retention purge must leave a well-formed record of what it deleted (legal-hold/purge-record.ts).
    const purgeProblem = row.action === PURGE_ACTION ? purgeRecordProblem(row.details) : null
    if (purgeProblem) return fail('bad_purge_record', row, `purge record ${row.id} (seq ${row.seq}) is malformed: ${purgeProblem}`)
    for (const c of byEvent.get(row.id) ?? []) {
      if (c.event_hash !== row.hash) {
        return fail('rewritten', row, `event ${row.id} (seq ${row.seq}) does not match its signed checkpoint ${c.id}: events after seq ${lastGoodCheckpointSeq} were modified and re-hashed`)
      }
      lastGoodCheckpointSeq = Number(row.seq)
    }
    byEvent.delete(row.id)
    recent.push({ id: row.id, seq: Number(row.seq), hash: row.hash })
    if (recent.length > LOOKAHEAD) recent.shift()
    expected = row.hash
    prevSeq = Number(row.seq)
    prevId = row.id
    window.shift()
    if (window.length <= LOOKAHEAD) await refill()
  }

  for (const [eventId, cs] of byEvent) {
    if (cs.some((c) => Number(c.seq) <= headSeq)) {
      return fail('deleted', null, `event ${eventId} (seq ${cs[0].seq}), covered by signed checkpoint ${cs[0].id}, is missing: it was deleted`)
    }
  }
  if (uptoSeq === undefined && (prevSeq !== Number(head.seq) || expected !== head.hash)) {
    if (prevSeq < Number(head.seq)) {
      return fail('deleted', null, `the newest events after ${prevId ?? 'the start'} (seq ${prevSeq + 1} to ${head.seq}) are missing: they were deleted`)
    }
    return fail('modified', prevId ? { id: prevId, seq: prevSeq } : null, `the chain ends at ${prevId} but its recorded head differs: the newest events were modified`)
  }
  return null
}
