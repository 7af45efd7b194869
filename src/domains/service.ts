import { domainToASCII } from 'node:url'
import { randomBytes } from 'node:crypto'
import { AppError, notFound } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import type { Clock } from '../core/clock.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Principal } from '../core/principal.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import { generateDkimKey, type DkimAlgorithm } from './dkim-keys.ts'
import { dnsRecordsFor } from './dns-records.ts'
import { checkRecords, type TxtResolver } from './dns-check.ts'
import { insertDomain, findDomain, findDomainByName, listDomains, updateDomain, deleteDomain, findVerifiedClaimsByOthers } from './store.ts'
import type { DomainRow, DomainStatus } from './table.ts'

export interface DomainDeps {
  db: Db
  cipher: FieldCipher
  clock: Clock
  resolver: TxtResolver
  audit: AuditRecorder
  spfInclude: string
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/** Lower-cased punycode name with at least two valid labels, or an invalid_request error. */
export function normalizeDomainName(input: string): string {
  const ascii = domainToASCII(input.trim().replace(/\.$/, '').toLowerCase())
  const labels = ascii.split('.')
  if (!ascii || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new AppError('invalid_request', 'Not a valid domain name.', { details: [{ path: 'body/name', message: 'invalid domain name' }] })
  }
  return ascii
}

const dkimCtx = (orgId: string, id: string) => ({ orgId, table: 'domains', column: 'dkim_private_key', rowId: id })

export function createDomainService(deps: DomainDeps) {
  const view = (d: DomainRow) => ({
    id: d.id, name: d.name, status: d.status,
    dkim: { selector: d.dkim_selector, algorithm: d.dkim_algorithm },
    records: dnsRecordsFor(d, deps.spfInclude),
    last_check: d.last_check ? JSON.parse(d.last_check) : null,
    verified_at: d.verified_at ? new Date(d.verified_at).toISOString() : null,
    created_at: new Date(d.created_at).toISOString(),
  })

  async function create(principal: Principal, input: { name: string; dkim_algorithm?: DkimAlgorithm }) {
    const name = normalizeDomainName(input.name)
    if (await findDomainByName(deps.db, principal.orgId, name)) {
      throw new AppError('conflict', 'This organization already has that domain.')
    }
    const algorithm = input.dkim_algorithm ?? 'rsa'
    const now = deps.clock.now().getTime()
    const id = newId('dom', now)
    const { privateKeyPem, publicKeyB64 } = await generateDkimKey(algorithm)
    const selector = `sp${new Date(now).toISOString().slice(0, 7).replace('-', '')}${randomBytes(2).toString('hex')}`
    const row: DomainRow = {
      id, org_id: principal.orgId, name, status: 'pending', dkim_selector: selector, dkim_algorithm: algorithm,
      dkim_private_key: await deps.cipher.encrypt(dkimCtx(principal.orgId, id), privateKeyPem),
      dkim_public_key: publicKeyB64, last_check: null, checked_at: null, verified_at: null, created_at: now,
      // Per organization and domain: another organization holding the same name (verified or not)
      // has another token, so its records never prove this claim.
      verification_token: randomBytes(16).toString('hex'),
    }
    await insertDomain(deps.db, row)
    deps.audit.record({ orgId: principal.orgId, actor: principal.actor, action: 'domain.created', target: { type: 'domain', id } })
    return view(row)
  }

  async function get(principal: Principal, id: string) {
    const d = await findDomain(deps.db, principal.orgId, id)
    if (!d) throw notFound('Domain')
    return view(d)
  }

  async function list(principal: Principal) {
    return (await listDomains(deps.db, principal.orgId)).map(view)
  }

  /** Checks a domain's records against DNS and stores the result (verified → failing when records went away). */
  async function check(d: DomainRow) {
    const checks = await checkRecords(deps.resolver, dnsRecordsFor(d, deps.spfInclude))
    const now = deps.clock.now().getTime()
    const ok = checks.every((c) => c.ok)
    const status: DomainStatus = ok ? 'verified' : d.status === 'pending' ? 'pending' : 'failing'
    const set = {
      last_check: JSON.stringify(checks), checked_at: now, status,
      verified_at: ok ? (d.status === 'verified' && d.verified_at ? d.verified_at : now) : d.verified_at,
    }
    await updateDomain(deps.db, d.org_id, d.id, set)
    return { ...d, ...set }
  }

  /**
   * Proven domains: a domain is verified only when this organization's own ownership token, its DKIM
   * key, SPF and DMARC are all published. Every claim needs its own proof, so a name (or a subdomain
   * of a name) another organization verified can be added, but stays pending until its DNS says so.
   * The DNS owner wins: when a claim is proven, the other organizations' verified claims on the same
   * name and its subdomains are checked again, and those whose records are gone become failing
   * (they sign no live mail until proven again).
   */
  async function verify(principal: Principal, id: string) {
    const d = await findDomain(deps.db, principal.orgId, id)
    if (!d) throw notFound('Domain')
    const checked = await check(d)
    if (checked.status !== d.status) {
      deps.audit.record({ orgId: principal.orgId, actor: principal.actor, action: `domain.${checked.status}`, target: { type: 'domain', id } })
    }
    if (checked.status === 'verified') {
      for (const other of await findVerifiedClaimsByOthers(deps.db, principal.orgId, d.name)) {
        const rechecked = await check(other)
        if (rechecked.status === 'failing') {
          deps.audit.record({ orgId: other.org_id, actor: { type: 'system', id: 'domain-verification' }, action: 'domain.failing', target: { type: 'domain', id: other.id }, details: { reason: 'records no longer published after another organization proved ownership' } })
        }
      }
    }
    return view(checked)
  }

  async function remove(principal: Principal, id: string) {
    if (!(await deleteDomain(deps.db, principal.orgId, id))) throw notFound('Domain')
    deps.audit.record({ orgId: principal.orgId, actor: principal.actor, action: 'domain.deleted', target: { type: 'domain', id } })
  }

  /** For the send path and delivery: the org's domain for an address's domain part, with its decrypted key. */
  async function signingKeyFor(orgId: string, domainName: string) {
    const d = await findDomainByName(deps.db, orgId, domainName)
    if (!d) return null
    return {
      id: d.id, domainName: d.name, keySelector: d.dkim_selector, algorithm: d.dkim_algorithm,
      privateKey: await deps.cipher.decryptText(dkimCtx(orgId, d.id), d.dkim_private_key),
      verified: d.status === 'verified',
    }
  }

  /** The send path's check that `from` is on one of the org's domains, and whether it is proven (no key decryption on the hot path). */
  async function findSenderDomain(orgId: string, domainName: string) {
    const d = await findDomainByName(deps.db, orgId, domainName)
    return d ? { id: d.id, status: d.status } : null
  }

  return { create, get, list, verify, remove, signingKeyFor, findSenderDomain }
}

export type DomainService = ReturnType<typeof createDomainService>
