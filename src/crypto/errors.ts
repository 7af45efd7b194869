/**
 * Crypto failures carry a stable code and a fixed message (jose-style): the
 * message says what is wrong with the value, never which byte or key failed.
 * They are not AppErrors: a ciphertext that does not decrypt is a server-side
 * integrity problem, rendered as 500 `internal` (the code is logged).
 */
export const cryptoErrorMessages = {
  ciphertext_malformed: 'ciphertext is not in a known Sealpost format',
  ciphertext_context_mismatch: 'ciphertext does not belong to this organization, table, column and row (moved or tampered with)',
  dek_not_found: 'the data key this ciphertext was written with does not exist',
  dek_destroyed: 'the data key of this subject was destroyed (crypto-shredded)',
  dek_unwrap_failed: 'a stored data key could not be unwrapped by its key-encryption key (moved or tampered with)',
  kek_unavailable: 'the key-encryption key version is not available from the key provider',
  kek_readonly: 'this key provider cannot add or destroy key versions itself',
  keyfile_insecure: 'the keyfile is readable by group or others',
  keyfile_invalid: 'the keyfile is not a valid Sealpost keyring',
  provider_error: 'the key provider failed',
} as const

export type CryptoErrorCode = keyof typeof cryptoErrorMessages

export class CryptoError extends Error {
  readonly code: CryptoErrorCode
  constructor(code: CryptoErrorCode, detail?: string, opts: { cause?: unknown } = {}) {
    super(detail ? `${cryptoErrorMessages[code]}: ${detail}` : cryptoErrorMessages[code], { cause: opts.cause })
    this.name = 'CryptoError'
    this.code = code
  }
}

export const isCryptoError = (e: unknown, code?: CryptoErrorCode): e is CryptoError =>
  e instanceof CryptoError && (code === undefined || e.code === code)
