import { AppError, type ErrorCode } from '../core/errors.ts'

/**
 * Characters no header-bound text may carry: C0 controls except TAB (CR, LF,
 * NUL among them), DEL, C1 controls (NEL U+0085) and the Unicode line and
 * paragraph separators some parsers treat as line breaks.
 */
export const CONTROL_CHARS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/
/** Bidirectional overrides and marks: `evil\u202Etxt.exe` reads as `evilexe.txt`. */
export const BIDI_CHARS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/
/** RFC 2047 encoded-word: a receiver decodes it to anything (CR/LF, an address). */
export const ENCODED_WORD = /=\?[^?\s]*\?[bq]\?[^?]*\?=/i

export interface FieldProblem {
  field: string
  reason: string
}

/**
 * An AppError whose details name the field and the reason, never the value:
 * a huge or malicious input is not echoed back (or into logs).
 */
export function fieldError(code: ErrorCode, field: string, reason: string, message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError(code, message, { details: { field, reason, ...extra } })
}

/** Shared refusals for any text that ends up in a header line. */
export function checkHeaderText(code: ErrorCode, field: string, value: unknown, maxLength: number, what: string): string {
  if (typeof value !== 'string') throw fieldError(code, field, 'not_a_string', `${what} must be a string.`)
  if (value.length > maxLength) {
    throw fieldError(code, field, 'too_long', `${what} is longer than ${maxLength} characters.`, { maxLength })
  }
  if (CONTROL_CHARS.test(value)) {
    throw fieldError(code, field, 'control_characters', `${what} must not contain CR, LF, NUL or other control characters.`)
  }
  if (BIDI_CHARS.test(value)) {
    throw fieldError(code, field, 'bidi_characters', `${what} must not contain bidirectional override characters.`)
  }
  if (ENCODED_WORD.test(value)) {
    throw fieldError(code, field, 'encoded_word', `${what} must not contain RFC 2047 encoded-words (=?...?=); send plain Unicode text.`)
  }
  if (!value.isWellFormed()) {
    throw fieldError(code, field, 'invalid_unicode', `${what} contains unpaired surrogates.`)
  }
  return value
}
