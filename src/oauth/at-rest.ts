import type { FieldCipher } from '../crypto/cipher.ts'

/**
 * How oauth/ keeps its secrets at rest: lookup values (token ids, grant ids,
 * uids, user codes) become blind indexes (HMAC under crypto/'s index key), and
 * payloads and private keys are sealed with the FieldCipher under a
 * process-wide owner, bound (AAD) to their table, column and row.
 */
export interface AtRest {
  lookupHash(purpose: string, value: string): string
  seal(table: string, column: string, rowId: string, plaintext: string): Promise<string>
  open(table: string, column: string, rowId: string, ciphertext: string): Promise<string>
}

/** Not an organization id (those are `org_…`): OAuth state belongs to the installation. */
const OWNER = { orgId: '*', subjectId: 'oauth' } as const

export function createAtRest(cipher: FieldCipher): AtRest {
  return {
    lookupHash: (purpose, value) => cipher.blindIndex(OWNER.orgId, `oauth:${purpose}`, value),
    seal: (table, column, rowId, plaintext) => cipher.encrypt({ ...OWNER, table, column, rowId }, plaintext),
    open: (table, column, rowId, ciphertext) => cipher.decryptText({ ...OWNER, table, column, rowId }, ciphertext),
  }
}
