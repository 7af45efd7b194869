import { promises as dns } from 'node:dns'
import type { DnsRecord } from './dns-records.ts'

/** The part of node:dns the checks use, injectable so tests run without the internet. */
export interface TxtResolver { resolveTxt(name: string): Promise<string[][]> }
export const systemResolver: TxtResolver = { resolveTxt: (n) => dns.resolveTxt(n) }

/** Lookups through chosen resolvers (SEALPOST_DNS_SERVERS), e.g. a public one rather than a split-horizon internal view. */
export function resolverFor(servers: readonly string[]): TxtResolver {
  const resolver = new dns.Resolver({ timeout: 5000, tries: 2 })
  resolver.setServers([...servers])
  return { resolveTxt: (n) => resolver.resolveTxt(n) }
}

export interface RecordCheck { purpose: DnsRecord['purpose']; name: string; ok: boolean; found: string[] }

const norm = (s: string) => s.replace(/\s+/g, '').toLowerCase()

async function txt(resolver: TxtResolver, name: string): Promise<string[]> {
  try {
    return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''))
  } catch {
    return []
  }
}

/** Checks each expected record against what DNS publishes. */
export async function checkRecords(resolver: TxtResolver, expected: DnsRecord[]): Promise<RecordCheck[]> {
  return Promise.all(expected.map(async (rec) => {
    const found = await txt(resolver, rec.name)
    let ok: boolean
    if (rec.purpose === 'verification') {
      // Exact token: another organization's token at the same name proves nothing for this one.
      ok = found.some((f) => f.trim() === rec.value)
    } else if (rec.purpose === 'dkim') {
      const p = /p=([^;]+)/.exec(rec.value)![1]
      ok = found.some((f) => norm(f).includes(`p=${norm(p)}`))
    } else if (rec.purpose === 'spf') {
      const include = /include:(\S+)/.exec(rec.value)![1]
      ok = found.some((f) => /^v=spf1\b/i.test(f) && f.toLowerCase().includes(`include:${include.toLowerCase()}`))
    } else {
      ok = found.some((f) => /^v=DMARC1\b/i.test(f.trim()))
    }
    return { purpose: rec.purpose, name: rec.name, ok, found: found.slice(0, 5) }
  }))
}
