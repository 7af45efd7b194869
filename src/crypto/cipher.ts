/**
 * What domains need from encryption at rest. crypto/ implements it with envelope
 * encryption (per-organization DEKs wrapped by a KEK from a key provider).
 *
 * The associated data binds a ciphertext to where it is stored, so a value
 * copied to another row, column or organization does not decrypt.
 *
 * @example
 *   const ct = await cipher.encrypt({ orgId, table: 'messages', column: 'subject', rowId: id }, subject)
 *   const pt = await cipher.decryptText({ orgId, table: 'messages', column: 'subject', rowId: id }, ct)
 */
export interface CipherContext {
  orgId: string
  table: string
  column: string
  rowId: string
  /** Optional narrower key owner (e.g. a contact), enabling crypto-shredding of just that owner. */
  subjectId?: string
}

export interface FieldCipher {
  encrypt(ctx: CipherContext, plaintext: string | Buffer): Promise<string>
  decrypt(ctx: CipherContext, ciphertext: string): Promise<Buffer>
  decryptText(ctx: CipherContext, ciphertext: string): Promise<string>
  /** Deterministic HMAC-SHA256 under a separate key, for equality lookups on encrypted columns. */
  blindIndex(orgId: string, purpose: string, value: string): string
}
