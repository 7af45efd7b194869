/**
 * Contacts: personal data encrypted under a per-contact data key, looked up
 * through a blind index, erased by crypto-shredding, exportable (GDPR Art. 15/20).
 * Another organization's contact and a missing one are the same 404.
 */
import { AppError, notFound } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import { canSee, environmentsVisibleTo } from '../access/sandbox.ts'
import type { Environment, Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import type { Envelope } from '../crypto/envelope.ts'
import { isCryptoError } from '../crypto/errors.ts'
import type { EncryptedColumn } from '../crypto/registry.ts'
import { parseAddress } from '../validation/address.ts'
import { checkHeaderText } from '../validation/text.ts'
import { contactView } from './view.ts'
import type { ContactRow } from './table.ts'
import type { CreateContactInput, ListContactsInput, UpdateContactInput } from './schema.ts'
import { deleteContact, findContact, findContactByEmailIndex, findUnsubscribedEmailIndexes, insertContact, listContacts, updateContact } from './store.ts'

/** Blind-index purpose; suppressions/ uses its own, so the two indexes cannot be joined. */
const EMAIL_INDEX = 'contacts.email'
const PII_COLUMNS = ['email', 'first_name', 'last_name', 'attributes'] as const
type PiiColumn = (typeof PII_COLUMNS)[number]

/** For the DEK-rotation registry (coordinator registers them in app.ts). */
export const contactEncryptedColumns: EncryptedColumn[] = PII_COLUMNS.map((column) => ({
  table: 'contacts', column, idColumn: 'id', orgColumn: 'org_id', subjectColumn: 'id',
}))

export interface ContactDeps {
  db: Db; envelope: Envelope; clock: Clock
}

interface Plain { email: string; first_name: string | null; last_name: string | null; attributes: Record<string, string> | null }

export function createContactService(deps: ContactDeps) {
  const { db, envelope, clock } = deps
  const ctx = (orgId: string, id: string, column: PiiColumn) => ({ orgId, table: 'contacts', column, rowId: id, subjectId: id })
  const seal = (orgId: string, id: string, column: PiiColumn, v: string | null) => (v === null ? null : envelope.encrypt(ctx(orgId, id, column), v))
  const open = async (orgId: string, id: string, column: PiiColumn, v: string | null) => (v === null ? null : envelope.decryptText(ctx(orgId, id, column), v))
  const normalizeEmail = (raw: string) => parseAddress({ email: raw }, 'email').address.toLowerCase()
  const emailIndex = (orgId: string, email: string) => envelope.blindIndex(orgId, EMAIL_INDEX, email)
  const name = (v: string | null | undefined, field: string) => (v == null ? null : checkHeaderText('invalid_request', field, v, 200, 'The name'))

  async function decryptRow(row: ContactRow): Promise<Plain & { id: string; unsubscribed: boolean; environment: string; created_at: string; updated_at: string }> {
    try {
      const [email, first, last, attrs] = await Promise.all(PII_COLUMNS.map((c) => open(row.org_id, row.id, c, row[c])))
      return {
        id: row.id, email: email!, first_name: first, last_name: last, attributes: attrs === null ? null : JSON.parse(attrs),
        unsubscribed: row.unsubscribed === 1, environment: row.environment, created_at: new Date(row.created_at).toISOString(), updated_at: new Date(row.updated_at).toISOString(),
      }
    } catch (e) {
      // Erased between the key deletion and the row deletion: it is gone.
      if (isCryptoError(e, 'dek_destroyed')) throw notFound('Contact')
      throw e
    }
  }

  /** Another environment's contact is as absent as another organization's (access/sandbox.ts). */
  async function load(principal: Principal, id: string): Promise<ContactRow> {
    const row = await findContact(db, principal.orgId, id)
    if (!row || !canSee(principal, row.environment)) throw notFound('Contact')
    return row
  }

  const conflict = (id: string) => new AppError('conflict', 'A contact with this email address already exists.', { details: { id } })

  async function create(principal: Principal, input: CreateContactInput) {
    const orgId = principal.orgId
    const email = normalizeEmail(input.email)
    const index = emailIndex(orgId, email)
    const existing = await findContactByEmailIndex(db, orgId, index, principal.environment)
    if (existing) throw conflict(existing.id)
    const now = clock.now().getTime()
    const id = newId('con', now)
    const row = {
      id, org_id: orgId, email_index: index, unsubscribed: input.unsubscribed ? 1 : 0, environment: principal.environment, created_at: now, updated_at: now,
      email: (await seal(orgId, id, 'email', email))!,
      first_name: await seal(orgId, id, 'first_name', name(input.first_name, 'first_name')),
      last_name: await seal(orgId, id, 'last_name', name(input.last_name, 'last_name')),
      attributes: await seal(orgId, id, 'attributes', input.attributes ? JSON.stringify(input.attributes) : null),
    }
    try {
      await insertContact(db, row)
    } catch (e) {
      const raced = await findContactByEmailIndex(db, orgId, index, principal.environment)
      await envelope.shredSubject(orgId, id) // the key made for the losing insert
      if (raced) throw conflict(raced.id)
      throw e
    }
    return contactView(principal, await decryptRow(row as ContactRow))
  }

  async function get(principal: Principal, id: string) {
    return contactView(principal, await decryptRow(await load(principal, id)))
  }

  async function list(principal: Principal, q: ListContactsInput) {
    // An exact-address filter answers "is X a contact?" even when every address in the reply is masked.
    if (q.email !== undefined && !principal.scopes.includes('contacts:pii')) {
      throw new AppError('insufficient_scope', 'Filtering contacts by email address needs the contacts:pii scope.', { details: { required: ['contacts:pii'] } })
    }
    const limit = q.limit ?? 20
    const emailIndexFilter = q.email ? emailIndex(principal.orgId, normalizeEmailOrNull(q.email) ?? q.email) : undefined
    const rows = await listContacts(db, principal.orgId, { limit, cursor: q.cursor, emailIndex: emailIndexFilter, environments: environmentsVisibleTo(principal) })
    const page = rows.slice(0, limit)
    const data = await Promise.all(page.map(decryptRow))
    return { data: contactView.many(principal, data), next_cursor: rows.length > limit ? page[page.length - 1].id : null }
  }

  function normalizeEmailOrNull(raw: string): string | null {
    try { return normalizeEmail(raw) } catch { return null }
  }

  async function update(principal: Principal, id: string, input: UpdateContactInput) {
    const orgId = principal.orgId
    const { environment } = await load(principal, id)
    const set: Record<string, unknown> = { updated_at: clock.now().getTime() }
    if (input.email !== undefined) {
      const email = normalizeEmail(input.email)
      const index = emailIndex(orgId, email)
      const other = await findContactByEmailIndex(db, orgId, index, environment)
      if (other && other.id !== id) throw conflict(other.id)
      set.email = await seal(orgId, id, 'email', email)
      set.email_index = index
    }
    if (input.first_name !== undefined) set.first_name = await seal(orgId, id, 'first_name', name(input.first_name, 'first_name'))
    if (input.last_name !== undefined) set.last_name = await seal(orgId, id, 'last_name', name(input.last_name, 'last_name'))
    if (input.attributes !== undefined) set.attributes = await seal(orgId, id, 'attributes', input.attributes ? JSON.stringify(input.attributes) : null)
    if (input.unsubscribed !== undefined) set.unsubscribed = input.unsubscribed ? 1 : 0
    let updated: boolean
    try {
      updated = await updateContact(db, orgId, id, set)
    } catch (e) {
      // Lost a race on the unique (org, email index): someone took the address meanwhile.
      const other = set.email_index ? await findContactByEmailIndex(db, orgId, set.email_index as string, environment) : undefined
      if (other && other.id !== id) throw conflict(other.id)
      throw e
    }
    if (!updated) throw notFound('Contact')
    return get(principal, id)
  }

  /**
   * Erasure by crypto-shredding: the contact's data key goes first, so even a
   * crash before the row is deleted leaves only ciphertext nobody can read.
   */
  async function erase(principal: Principal, id: string): Promise<void> {
    await load(principal, id)
    await envelope.shredSubject(principal.orgId, id)
    await deleteContact(db, principal.orgId, id)
  }

  /** Everything stored about the contact, in clear, machine-readable (requires contacts:pii). */
  async function exportContact(principal: Principal, id: string) {
    const contact = await decryptRow(await load(principal, id))
    return {
      format: 'sealpost.contact-export.v1',
      exported_at: clock.now().toISOString(),
      organization_id: principal.orgId,
      contact,
      storage: {
        encryption: 'AES-256-GCM under a data key of this contact, wrapped by the server key-encryption key',
        lookup: 'the email address is also stored as an HMAC-SHA256 blind index (not reversible)',
        erasure: 'DELETE /v1/contacts/{id} destroys the data key (crypto-shredding)',
      },
    }
  }

  /**
   * The subset of `addresses` (lower-cased) that are contacts marked unsubscribed: the send path drops
   * them like suppressed addresses. One indexed query through the blind index.
   */
  async function unsubscribedAmong(orgId: string, addresses: string[], environment: Environment): Promise<Set<string>> {
    const byIndex = new Map<string, string>()
    for (const a of addresses) {
      const email = normalizeEmailOrNull(a)
      if (email) byIndex.set(emailIndex(orgId, email), a.toLowerCase())
    }
    const hits = await findUnsubscribedEmailIndexes(db, orgId, [...byIndex.keys()], environment === 'live' ? ['live'] : ['live', 'test'])
    return new Set([...hits].map((i) => byIndex.get(i)!))
  }

  return { create, get, list, update, erase, exportContact, unsubscribedAmong }
}

export type ContactService = ReturnType<typeof createContactService>
