import type { DomainRow } from './table.ts'

export interface DnsRecord { type: 'TXT'; name: string; value: string; purpose: 'verification' | 'dkim' | 'spf' | 'dmarc' }

/** Where an organization's ownership token for `name` is published. */
export const verificationRecordName = (name: string) => `_sealpost-verification.${name}`
export const verificationRecordValue = (token: string) => `sealpost-verify=${token}`

/**
 * The records a customer publishes: the ownership token (this organization controls the name),
 * and what receivers need to accept mail signed and sent by Sealpost.
 */
export function dnsRecordsFor(domain: Pick<DomainRow, 'name' | 'dkim_selector' | 'dkim_algorithm' | 'dkim_public_key' | 'verification_token'>, spfInclude: string): DnsRecord[] {
  const k = domain.dkim_algorithm === 'ed25519' ? 'ed25519' : 'rsa'
  return [
    { type: 'TXT', purpose: 'verification', name: verificationRecordName(domain.name), value: verificationRecordValue(domain.verification_token) },
    { type: 'TXT', purpose: 'dkim', name: `${domain.dkim_selector}._domainkey.${domain.name}`, value: `v=DKIM1; k=${k}; p=${domain.dkim_public_key}` },
    { type: 'TXT', purpose: 'spf', name: domain.name, value: `v=spf1 include:${spfInclude} ~all` },
    { type: 'TXT', purpose: 'dmarc', name: `_dmarc.${domain.name}`, value: `v=DMARC1; p=quarantine; adkim=s; aspf=r; rua=mailto:dmarc-reports@${domain.name}` },
  ]
}
