/**
 * Ciphertext format, version 1:  `sp1.<dekVersion>.<base64url(iv ‖ ciphertext ‖ tag)>`
 *
 * - `sp1` names the format (AES-256-GCM, 96-bit random IV, 128-bit tag), so a
 *   future format can coexist while rows are re-encrypted.
 * - `dekVersion` names the data key of the owner (organization or subject) that
 *   encrypted it. The KEK version is recorded on the wrapped DEK row instead:
 *   KEK rotation then re-wraps a few keys and never touches a data row.
 * - The AAD is not stored: it is rebuilt from where the value is read (org,
 *   table, column, row, subject), so a copied value fails authentication.
 */
import type { CipherContext } from './cipher.ts'
import { CryptoError } from './errors.ts'

export const FORMAT_PREFIX = 'sp1'
export const IV_BYTES = 12
export const TAG_BYTES = 16

export interface ParsedCiphertext { dekVersion: number; iv: Buffer; body: Buffer; tag: Buffer }

export function encodeCiphertext(dekVersion: number, iv: Buffer, body: Buffer, tag: Buffer): string {
  return `${FORMAT_PREFIX}.${dekVersion}.${Buffer.concat([iv, body, tag]).toString('base64url')}`
}

/** `sp1.<v>.` : rows written under a DEK version start with this (for batched re-encryption). */
export const dekVersionPrefix = (dekVersion: number) => `${FORMAT_PREFIX}.${dekVersion}.`

export function parseCiphertext(text: string): ParsedCiphertext {
  const m = typeof text === 'string' ? /^sp1\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]+)$/.exec(text) : null
  if (!m) throw new CryptoError('ciphertext_malformed')
  const raw = Buffer.from(m[2], 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES) throw new CryptoError('ciphertext_malformed')
  return {
    dekVersion: Number(m[1]),
    iv: raw.subarray(0, IV_BYTES),
    body: raw.subarray(IV_BYTES, raw.length - TAG_BYTES),
    tag: raw.subarray(raw.length - TAG_BYTES),
  }
}

/** JSON array: unambiguous, so `("a|b","c")` and `("a","b|c")` differ. */
export function fieldAad(ctx: CipherContext, dekVersion: number): Buffer {
  return Buffer.from(JSON.stringify([FORMAT_PREFIX, ctx.orgId, ctx.table, ctx.column, ctx.rowId, ctx.subjectId ?? '', dekVersion]))
}

/** Binds a wrapped DEK to its row, so a wrapped key copied to another owner does not unwrap. */
export function dekAad(row: { id: string; org_id: string; subject_id: string; version: number }): Buffer {
  return Buffer.from(JSON.stringify(['sealpost-dek', row.id, row.org_id, row.subject_id, row.version]))
}
