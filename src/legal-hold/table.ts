import type { Selectable } from 'kysely'

/**
 * A legal hold suspends retention purges and erasure for what it covers, until released:
 * - `organization`: everything of the organization (messages, audit events, contacts);
 * - `contact`: one contact (its erasure is refused with 409 legal_hold);
 * - `messages`: a message set, by id list (`message_ids`, JSON array) or by `tag`.
 * Released holds are kept (released_at/by) as the record of the hold.
 */
export interface LegalHoldsTable {
  id: string
  org_id: string
  scope: 'organization' | 'contact' | 'messages'
  contact_id: string | null
  message_ids: string | null
  tag: string | null
  /** Free text from the admin (matter name): not personal data of a recipient. */
  reason: string
  created_by: string
  created_at: number
  released_at: number | null
  released_by: string | null
}

export interface LegalHoldTables { legal_holds: LegalHoldsTable }

export type LegalHoldRow = Selectable<LegalHoldsTable>
