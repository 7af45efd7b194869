import type { Selectable } from 'kysely'

/**
 * Contacts. Every personal field is ciphertext under the contact's own data key
 * (crypto-shredding: erasing the contact destroys that key). `email_index` is a
 * blind index (HMAC) of the normalized address, for lookups and dedupe.
 */
export interface ContactsTable {
  id: string
  org_id: string
  email: string
  email_index: string
  first_name: string | null
  last_name: string | null
  /** ciphertext of a JSON object of string attributes */
  attributes: string | null
  unsubscribed: number
  /** Of the credential that created it (access/sandbox.ts). */
  environment: 'live' | 'test'
  created_at: number
  updated_at: number
}

export interface ContactTables {
  contacts: ContactsTable
}

export type ContactRow = Selectable<ContactsTable>
