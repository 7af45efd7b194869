import type { Selectable } from 'kysely'

export type DomainStatus = 'pending' | 'verified' | 'failing'

export interface DomainsTable {
  id: string
  org_id: string
  /** Lower-cased ASCII (punycode) domain name. */
  name: string
  /**
   * pending: never proven; verified: every record (DKIM, SPF, DMARC, ownership token) found at the last
   * check; failing: was verified, then a check found records missing (e.g. the DNS owner moved the
   * name to another organization). Only `verified` domains sign live mail.
   */
  status: DomainStatus
  dkim_selector: string
  dkim_algorithm: 'rsa' | 'ed25519'
  /** PKCS#8 PEM, encrypted with the organization's data key. */
  dkim_private_key: string
  /** Base64 public key as published in the DKIM TXT record (p=). */
  dkim_public_key: string
  /** Published as `_sealpost-verification.<name> TXT "sealpost-verify=<token>"`: this organization's proof of DNS control. */
  verification_token: string
  /** JSON: result of the last DNS check, per record. */
  last_check: string | null
  checked_at: number | null
  verified_at: number | null
  created_at: number
}

export interface DomainTables {
  domains: DomainsTable
}

export type DomainRow = Selectable<DomainsTable>

/** Columns under envelope encryption, for data-key rotation (crypto/registry.ts). */
export const domainEncryptedColumns = [{ table: 'domains', column: 'dkim_private_key', idColumn: 'id', orgColumn: 'org_id' }]
