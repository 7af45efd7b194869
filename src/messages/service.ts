import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Environment, Principal } from '../core/principal.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { DeliveryQueue } from '../delivery/contract.ts'
import type { Db } from '../storage/db.ts'
import { recipientsOf, type Draft, type DraftValidator } from './draft.ts'
import { prepareMessage, type PreparedMessage } from './prepare.ts'
import { checkIdempotencyKey, findReplay, requestHash, saveResponse, type StoredResponse } from './idempotency.ts'
import { insertEvents, insertMessages } from './store.ts'
import type { SendInput } from './schema.ts'

/** How the send path finds the organization's sending domain (domains/ implements it). */
export interface SenderDomains {
  findSenderDomain(orgId: string, domainName: string): Promise<{ id: string; status: 'pending' | 'verified' | 'failing' } | null>
}

/** Sending quotas (limits/ implements it): throws quota_exceeded, reserving nothing, when the messages or their recipients would cross a limit. */
export interface SendQuota {
  reserve(principal: Principal, amount: { messages: number; recipients: number }): Promise<void>
}

/** The suppression list (suppressions/ implements it): which of these addresses a send in `environment` must not mail. */
export interface SuppressionCheck {
  suppressed(orgId: string, addresses: string[], environment: Environment): Promise<Set<string>>
}

export interface MessageServiceDeps {
  db: Db
  cipher: FieldCipher
  queue: DeliveryQueue
  clock: Clock
  domains: SenderDomains
  quota: SendQuota
  suppressions: SuppressionCheck
  /** Content checks of each message, off the event loop (draft.ts: offloadedDraftValidator). */
  validateDrafts: DraftValidator
}

export interface SendResult extends StoredResponse { replayed: boolean }

export function createMessageService(deps: MessageServiceDeps) {
  const accepted = (p: PreparedMessage, d: Draft) => ({
    id: p.row.id,
    status: p.row.status,
    created_at: new Date(p.row.created_at).toISOString(),
    send_at: d.sendAt === null ? null : new Date(d.sendAt).toISOString(),
    ...(d.htmlRemoved.length ? { html_removed: d.htmlRemoved } : {}),
  })

  async function domainIdFor(principal: Principal, draft: Draft, field: string): Promise<string> {
    const domain = await deps.domains.findSenderDomain(principal.orgId, draft.from.domain)
    if (!domain) {
      throw new AppError('domain_not_allowed', `The from address must be on one of this organization's sending domains (${draft.from.domain} is not).`, { details: [{ path: field, message: 'domain not registered' }] })
    }
    // Live mail only from a domain whose DNS this organization proved; test keys end sandboxed anyway.
    if (principal.environment === 'live' && domain.status !== 'verified') {
      throw new AppError('domain_not_verified', `Live mail needs a verified sending domain; ${draft.from.domain} is ${domain.status}. Publish its DNS records and POST /v1/domains/${domain.id}/verify, or send with a test key.`, { details: [{ path: field, message: `domain ${domain.status}`, domain_id: domain.id }] })
    }
    return domain.id
  }

  /** Removes suppressed recipients from the draft in place; returns how many were dropped. */
  async function dropSuppressed(principal: Principal, d: Draft): Promise<number> {
    const hits = await deps.suppressions.suppressed(principal.orgId, recipientsOf(d).map((a) => a.address), principal.environment)
    if (!hits.size) return 0
    const keep = (l: Draft['to']) => l.filter((a) => !hits.has(a.address.toLowerCase()))
    const before = recipientsOf(d).length
    d.to = keep(d.to); d.cc = keep(d.cc); d.bcc = keep(d.bcc)
    return before - recipientsOf(d).length
  }

  /**
   * 1. Idempotency: same key + same body → the stored response; different body → 409.
   * 2. Validate every message (a batch is refused whole on the first bad one).
   * 3. Sender domain must belong to the organization; quota reserved for all recipients' messages.
   * 4. Encrypt, then store + enqueue + remember the response in one transaction: nothing accepted is lost.
   */
  async function accept(principal: Principal, inputs: SendInput[], route: string, idempotencyKey: string | string[] | undefined, respond: (items: ReturnType<typeof accepted>[]) => unknown): Promise<SendResult> {
    const now = deps.clock.now().getTime()
    const key = checkIdempotencyKey(idempotencyKey)
    const hash = key ? requestHash(route, inputs) : ''
    if (key) {
      const replay = await findReplay(deps.db, principal, key, hash, now)
      if (replay) return { ...replay, replayed: true }
    }
    const batch = inputs.length > 1 || route.endsWith('/batch')
    const field = (i: number) => (batch ? `messages[${i}]` : '')
    const drafts = await deps.validateDrafts(inputs, now, field)
    // Independent lookups: one round trip of latency, not two.
    const [domainIds, dropped] = await Promise.all([
      Promise.all(drafts.map((d, i) => domainIdFor(principal, d, field(i) ? `${field(i)}.from` : 'from'))),
      Promise.all(drafts.map((d) => dropSuppressed(principal, d))),
    ])
    await deps.quota.reserve(principal, { messages: drafts.length, recipients: drafts.reduce((n, d) => n + recipientsOf(d).length, 0) })
    const prepared = await Promise.all(drafts.map((d, i) => prepareMessage(deps.cipher, principal, d, domainIds[i], now, dropped[i])))
    const response: StoredResponse = { statusCode: 202, body: respond(prepared.map((p, i) => accepted(p, drafts[i]))) }
    try {
      await deps.db.transaction().execute(async (trx) => {
        await insertMessages(trx, prepared.map((p) => p.row))
        await insertEvents(trx, prepared.flatMap((p) => p.events))
        await deps.queue.enqueue(trx, prepared.filter((p) => p.recipientDomains.length).map((p) => ({
          orgId: principal.orgId, messageId: p.row.id as string, runAt: p.runAt, recipientDomains: p.recipientDomains,
        })))
        if (key) await saveResponse(trx, principal, key, hash, response, now)
      })
    } catch (err) {
      // A concurrent request with the same key won the race: answer as it did.
      if (key) {
        const replay = await findReplay(deps.db, principal, key, hash, now)
        if (replay) return { ...replay, replayed: true }
      }
      throw err
    }
    return { ...response, replayed: false }
  }

  return {
    send: (principal: Principal, input: SendInput, idempotencyKey?: string | string[]) =>
      accept(principal, [input], 'POST /v1/messages', idempotencyKey, (items) => items[0]),
    sendBatch: (principal: Principal, inputs: SendInput[], idempotencyKey?: string | string[]) =>
      accept(principal, inputs, 'POST /v1/messages/batch', idempotencyKey, (items) => ({ data: items })),
  }
}

export type MessageService = ReturnType<typeof createMessageService>
