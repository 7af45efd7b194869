import type { DomainRow } from './table.ts'

export interface DnsRecord { type: 'TXT'; name: string; value: string; purpose: 'dkim' | 'spf' | 'dmarc' }

/** The records a customer publishes so receivers accept mail signed and sent by Sealpost. */
export function dnsRecordsFor(domain: Pick<DomainRow, 'name' | 'dkim_selector' | 'dkim_algorithm' | 'dkim_public_key'>, spfInclude: string): DnsRecord[] {
  const k = domain.dkim_algorithm === 'ed25519' ? 'ed25519' : 'rsa'
  return [
    { type: 'TXT', purpose: 'dkim', name: `${domain.dkim_selector}._domainkey.${domain.name}`, value: `v=DKIM1; k=${k}; p=${domain.dkim_public_key}` },
    { type: 'TXT', purpose: 'spf', name: domain.name, value: `v=spf1 include:${spfInclude} ~all` },
    { type: 'TXT', purpose: 'dmarc', name: `_dmarc.${domain.name}`, value: `v=DMARC1; p=quarantine; adkim=s; aspf=r; rua=mailto:dmarc-reports@${domain.name}` },
  ]
}
