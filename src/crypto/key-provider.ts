/**
 * Where key-encryption keys (KEKs) live. A KEK never leaves its provider in
 * a form Sealpost stores: the envelope hands the provider a data key (DEK) to
 * wrap or unwrap, and records the opaque `version` string next to the wrapped
 * DEK. Versions let rotation re-wrap DEKs online and retire the old KEK once no
 * DEK uses it.
 *
 * Implementations: `LocalKeyProvider` (keyring from SEALPOST_MASTER_KEY or a
 * 0600 keyfile), `Pkcs11KeyProvider` (an HSM, AES-GCM inside the token).
 *
 * Calls happen only when a DEK is created, first used by a process (then it is
 * cached unwrapped in memory), or re-wrapped: a network round trip per call is fine.
 *
 * @example A Vault Transit provider is about 40 lines (fetch + a token):
 *   class VaultTransitKeyProvider implements KeyProvider {
 *     readonly name = 'vault-transit'
 *     async currentVersion() {          // GET /v1/transit/keys/:name → latest_version
 *       return `vault-${(await this.get(`keys/${this.key}`)).data.latest_version}`
 *     }
 *     async wrap(version: string, dek: Buffer, aad: Buffer) {
 *       // POST /v1/transit/encrypt/:name { plaintext, context, key_version } → "vault:v3:…"
 *       const r = await this.post(`encrypt/${this.key}`, { plaintext: dek.toString('base64'),
 *         associated_data: aad.toString('base64'), key_version: Number(version.slice(6)) })
 *       return Buffer.from(r.data.ciphertext)
 *     }
 *     async unwrap(_version: string, wrapped: Buffer, aad: Buffer) {   // POST /v1/transit/decrypt/:name
 *       const r = await this.post(`decrypt/${this.key}`, { ciphertext: wrapped.toString(), associated_data: aad.toString('base64') })
 *       return Buffer.from(r.data.plaintext, 'base64')
 *     }
 *     async addVersion() { await this.post(`keys/${this.key}/rotate`, {}); return this.currentVersion() }
 *     // POST /v1/transit/keys/:name/config { min_decryption_version }: Vault then refuses older versions.
 *     async destroyVersion(version: string) { … }
 *     async listVersions() { … }             // keys of data.keys ≥ min_decryption_version
 *     async close() {}
 *   }
 * A cloud KMS (AWS KMS Encrypt/Decrypt with EncryptionContext, GCP KMS with
 * additionalAuthenticatedData) maps the same way: the KMS key version is the version.
 */
export interface KeyProvider {
  /** Short mechanism name for logs and `kek status` (`local`, `pkcs11`, `vault-transit`). */
  readonly name: string
  /** The version new DEKs are wrapped under. Cheap enough to call per DEK creation. */
  currentVersion(): Promise<string>
  /**
   * Encrypt `dek` under KEK `version`, authenticating `aad` (binds the wrapped
   * DEK to its row). Returns opaque bytes the same provider can unwrap.
   */
  wrap(version: string, dek: Buffer, aad: Buffer): Promise<Buffer>
  /** Inverse of wrap. Throws CryptoError `kek_unavailable` or `dek_unwrap_failed`. */
  unwrap(version: string, wrapped: Buffer, aad: Buffer): Promise<Buffer>
  /** Create a new KEK version and make it current; returns its version. */
  addVersion(): Promise<string>
  /** Irreversibly destroy a KEK version. Rotation calls it only once no DEK is wrapped by it. */
  destroyVersion(version: string): Promise<void>
  /** Every version that can still unwrap, oldest first. */
  listVersions(): Promise<string[]>
  close(): Promise<void>
}
