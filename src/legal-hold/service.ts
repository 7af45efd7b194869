import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { AppError, notFound } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { contactOnHold, findHold, insertHold, listHolds, releaseHold } from './store.ts'
import type { LegalHoldRow } from './table.ts'

export interface CreateHoldInput {
  scope: 'organization' | 'contact' | 'messages'
  reason: string
  contact_id?: string
  message_ids?: string[]
  tag?: string
}

type Meta = { ip?: string; requestId?: string }

const view = (h: LegalHoldRow) => ({
  id: h.id, scope: h.scope, reason: h.reason,
  contact_id: h.contact_id, message_ids: h.message_ids ? (JSON.parse(h.message_ids) as string[]) : null, tag: h.tag,
  created_by: h.created_by, created_at: new Date(Number(h.created_at)).toISOString(),
  released_at: h.released_at === null ? null : new Date(Number(h.released_at)).toISOString(), released_by: h.released_by,
})

const invalid = (path: string, message: string) => new AppError('invalid_request', 'Invalid legal hold.', { details: [{ path: `body/${path}`, message }] })

export function createLegalHoldService(deps: { db: Db; clock: Clock; audit: AuditRecorder }) {
  /** Exactly the target fields of the scope: a hold never silently covers less than it says. */
  function checkTarget(input: CreateHoldInput) {
    const has = { contact_id: input.contact_id !== undefined, message_ids: input.message_ids !== undefined, tag: input.tag !== undefined }
    if (input.scope === 'organization' && (has.contact_id || has.message_ids || has.tag)) throw invalid('scope', 'an organization hold takes no target')
    if (input.scope === 'contact' && (!has.contact_id || has.message_ids || has.tag)) throw invalid('contact_id', 'a contact hold takes contact_id only')
    if (input.scope === 'messages' && (has.contact_id || has.message_ids === has.tag)) throw invalid('message_ids', 'a messages hold takes either message_ids or tag')
  }

  async function create(p: Principal, input: CreateHoldInput, meta: Meta = {}) {
    checkTarget(input)
    const now = deps.clock.now().getTime()
    const row = {
      id: newId('lgh', now), org_id: p.orgId, scope: input.scope, reason: input.reason,
      contact_id: input.contact_id ?? null, message_ids: input.message_ids ? JSON.stringify([...new Set(input.message_ids)]) : null, tag: input.tag ?? null,
      created_by: p.actor.id, created_at: now, released_at: null, released_by: null,
    }
    await insertHold(deps.db, row)
    deps.audit.record({
      orgId: p.orgId, actor: p.actor, action: 'legal_hold.created', target: { type: 'legal_hold', id: row.id },
      details: { scope: row.scope, contact_id: row.contact_id, message_count: input.message_ids?.length ?? null, tag: row.tag }, ...meta,
    })
    return view(row)
  }

  async function list(p: Principal, includeReleased: boolean) {
    return { data: (await listHolds(deps.db, p.orgId, includeReleased)).map(view) }
  }

  async function release(p: Principal, id: string, meta: Meta = {}) {
    const hold = await findHold(deps.db, p.orgId, id)
    if (!hold) throw notFound('Legal hold')
    const now = deps.clock.now().getTime()
    if (!(await releaseHold(deps.db, p.orgId, id, p.actor.id, now))) throw new AppError('conflict', 'This legal hold was already released.')
    deps.audit.record({ orgId: p.orgId, actor: p.actor, action: 'legal_hold.released', target: { type: 'legal_hold', id }, details: { scope: hold.scope }, ...meta })
    return view({ ...hold, released_at: now, released_by: p.actor.id })
  }

  /** contacts/ calls this before erasing: a held contact is kept (409 legal_hold). */
  async function assertErasable(orgId: string, contactId: string): Promise<void> {
    if (await contactOnHold(deps.db, orgId, contactId)) {
      throw new AppError('legal_hold', 'This contact is under a legal hold and cannot be erased until the hold is released.')
    }
  }

  return { create, list, release, assertErasable }
}

export type LegalHoldService = ReturnType<typeof createLegalHoldService>
