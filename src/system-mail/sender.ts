import { AppError, isAppError } from '../core/errors.ts'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import type { SendInput } from '../messages/schema.ts'
import type { MailSender, SystemMail } from '../users/mail.ts'
import { hmacHex } from '../users/tokens.ts'
import { renderSystemMail } from './templates.ts'
import { countQueuedSince, findSenderDomain, insertSystemMail } from './store.ts'

/** The credential id stored on system messages: no API key can have it (keys are `key_…`), so `system: true` cannot be forged. */
export const SYSTEM_MAIL_CREDENTIAL = 'system-mail'
const HOUR = 60 * 60_000

export interface SystemMailerDeps {
  db: Db
  clock: Clock
  pepper: string
  audit: AuditRecorder
  /** The send path (messages/ service without the customer quota): stored, encrypted, queued, then DKIM-signed and delivered by the workers. */
  submit(principal: Principal, input: SendInput): Promise<{ body: unknown }>
  /** SEALPOST_SYSTEM_MAIL_DOMAIN; unset: the bootstrap domain. */
  domain?: string
  perRecipientPerHour: number
  onError(what: string, err: unknown): void
}

/**
 * Sealpost's own mail goes through Sealpost: a message of the organization that owns the sending
 * domain (normally the operator's), from no-reply@<domain>, with the same storage, queue, DKIM,
 * TLS policy and audit as any customer message. Failures never reach the caller (an invitation is
 * still created, a reset still answers 202); they are logged and recorded in `system_mail`.
 */
export function createSystemMailer(deps: SystemMailerDeps): MailSender {
  const record = (mail: SystemMail, recipientHash: string, outcome: 'queued' | 'rate_limited' | 'no_sender' | 'refused', messageId: string | null) =>
    insertSystemMail(deps.db, { id: newId('sml', deps.clock.now().getTime()), org_id: mail.orgId ?? null, kind: mail.kind, recipient_hash: recipientHash, message_id: messageId, outcome, created_at: deps.clock.now().getTime() })

  return {
    async send(mail) {
      const address = mail.to.trim().toLowerCase()
      const recipientHash = hmacHex(deps.pepper, 'system-mail-recipient', address)
      const now = deps.clock.now().getTime()
      if (await countQueuedSince(deps.db, recipientHash, now - HOUR) >= deps.perRecipientPerHour) {
        await record(mail, recipientHash, 'rate_limited', null)
        deps.audit.record({ orgId: mail.orgId ?? null, actor: { type: 'system', id: SYSTEM_MAIL_CREDENTIAL }, action: 'system_mail.rate_limited', outcome: 'failure', details: { kind: mail.kind, perHour: deps.perRecipientPerHour } })
        return
      }
      const sender = await findSenderDomain(deps.db, deps.domain)
      if (!sender) {
        await record(mail, recipientHash, 'no_sender', null)
        deps.onError('system mail: no sending domain (set SEALPOST_SYSTEM_MAIL_DOMAIN to a registered domain, or run init); mail dropped', new AppError('unavailable', `no sending domain for ${mail.kind} mail`))
        return
      }
      const principal: Principal = {
        orgId: sender.orgId, actor: { type: 'key', id: SYSTEM_MAIL_CREDENTIAL }, scopes: ['messages:send'], environment: 'live', credentialId: SYSTEM_MAIL_CREDENTIAL,
      }
      const body = renderSystemMail(mail)
      try {
        const r = await deps.submit(principal, { from: `Sealpost <no-reply@${sender.name}>`, to: [address], ...body, tags: ['sealpost-system', mail.kind] })
        const messageId = (r.body as { id: string }).id
        await record(mail, recipientHash, 'queued', messageId)
        deps.audit.record({ orgId: sender.orgId, actor: { type: 'system', id: SYSTEM_MAIL_CREDENTIAL }, action: 'system_mail.queued', target: { type: 'message', id: messageId }, outcome: 'success', details: { kind: mail.kind, ...(mail.orgId && mail.orgId !== sender.orgId ? { concernsOrg: mail.orgId } : {}) } })
      } catch (err) {
        if (!isAppError(err)) throw err
        // e.g. an address the send path refuses: the caller's action still stands.
        await record(mail, recipientHash, 'refused', null)
        deps.onError(`system mail: the send path refused a ${mail.kind} mail (${err.code})`, err)
      }
    },
  }
}
