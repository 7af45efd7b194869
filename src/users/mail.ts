/**
 * How Sealpost sends its own emails (verification links, invitations, password resets,
 * alerts). Production: system-mail/sender.ts, through the delivery pipeline; tests that
 * pass AppDeps.mailSender read the in-memory outbox instead.
 *
 * @example
 *   const outbox = createMemoryOutbox()
 *   await outbox.send({ to: 'a@example.com', subject: 'Hi', text: 'token: …', kind: 'verify_email' })
 *   outbox.last('a@example.com')?.text
 */
export interface SystemMail {
  to: string
  subject: string
  text: string
  /** What the mail is for, so tests and logs can tell them apart without parsing text. */
  kind: 'verify_email' | 'invitation' | 'password_reset' | 'alert'
  /** The organization the mail concerns (its admins see it in GET /v1/system-mail); none for account mail. */
  orgId?: string | null
}

export interface MailSender {
  send(mail: SystemMail): Promise<void>
}

export interface MemoryOutbox extends MailSender {
  readonly sent: SystemMail[]
  last(to: string, kind?: SystemMail['kind']): SystemMail | undefined
}

export function createMemoryOutbox(): MemoryOutbox {
  const sent: SystemMail[] = []
  return {
    sent,
    async send(mail) { sent.push(mail) },
    last: (to, kind) => sent.filter((m) => m.to === to && (!kind || m.kind === kind)).at(-1),
  }
}

/** Tokens travel in mails as `token: <value>` on their own line as well as in the link. */
export function tokenFromMail(mail: SystemMail | undefined): string | null {
  return mail?.text.match(/^token: ([A-Za-z0-9_-]+)$/m)?.[1] ?? null
}
