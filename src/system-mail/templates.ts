import type { SystemMail } from '../users/mail.ts'

/**
 * The one layout of every system mail: the caller's plain text, then a footer saying why it came;
 * the HTML part is the same text escaped, with links made clickable (no images, no remote content,
 * no tracking). Tokens stay on their own `token: …` line in both parts.
 */
const FOOTER: Record<SystemMail['kind'], string> = {
  verify_email: 'You receive this because someone asked to verify this address on Sealpost. If it was not you, ignore it.',
  invitation: 'You receive this because an organization administrator invited this address. If you do not expect it, ignore it.',
  password_reset: 'You receive this because a password reset was requested for this address. If it was not you, ignore it: your password stays as it is.',
  alert: 'You receive this because this address is on your organization\'s security alert policy.',
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const linkify = (escaped: string) => escaped.replace(/\bhttps?:\/\/[^\s<>"']+/g, (u) => `<a href="${u}">${u}</a>`)

export function renderSystemMail(mail: Pick<SystemMail, 'kind' | 'subject' | 'text'>): { subject: string; text: string; html: string } {
  const footer = FOOTER[mail.kind]
  const text = `${mail.text.trimEnd()}\n\n-- \n${footer}\n`
  const paragraphs = mail.text.trimEnd().split(/\n{2,}/).map((p) => `<p>${linkify(escapeHtml(p)).replace(/\n/g, '<br>\n')}</p>`)
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">\n${paragraphs.join('\n')}\n<hr>\n<p style="color:#666;font-size:90%">${escapeHtml(footer)}</p>\n</body></html>\n`
  // A subject is one header line: no CR/LF from any caller.
  return { subject: mail.subject.replace(/[\r\n]+/g, ' ').slice(0, 200), text, html }
}
