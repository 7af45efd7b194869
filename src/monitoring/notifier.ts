import type { Clock } from '../core/clock.ts'
import type { PolicyStore } from './policy.ts'
import type { AlertView } from './alert-view.ts'
import { postSignedWebhook } from './webhook.ts'
import type { OutboundGuard } from '../net/guard.ts'

/** Email for alerts; app.ts plugs in system mail (system-mail/sender.ts, through the delivery pipeline). */
export interface AlertMailer {
  send(mail: { to: string; subject: string; text: string; orgId?: string | null }): Promise<void>
}

export interface NotifyResult { channel: 'webhook' | 'email'; ok: boolean; detail?: string }

/**
 * Tells an organization about an alert: a signed webhook (HMAC-SHA256 over
 * `timestamp.body`, see webhook.ts), retried a few times, and email to the
 * policy's addresses. Failures are reported as results, never thrown.
 */
export function createNotifier(deps: { policies: PolicyStore; clock: Clock; mailer?: AlertMailer | null; outbound: Pick<OutboundGuard, 'post'>; attempts?: number }) {
  return {
    async notify(alert: AlertView, actions: string[]): Promise<NotifyResult[]> {
      if (!alert.orgId) return []
      const policy = await deps.policies.get(alert.orgId)
      const out: NotifyResult[] = []
      const payload = { type: 'security_alert', alert, actions }
      if (policy.webhook) {
        const body = JSON.stringify(payload)
        let detail = ''
        let ok = false
        for (let i = 0; i < (deps.attempts ?? 3) && !ok; i++) {
          try {
            await postSignedWebhook(deps.outbound, { url: policy.webhook.url, id: alert.id, secret: policy.webhook.secret, body, nowSec: Math.floor(deps.clock.now().getTime() / 1000) })
            ok = true
          } catch (err) {
            detail = (err as Error).message
          }
        }
        out.push({ channel: 'webhook', ok, ...(ok ? {} : { detail }) })
      }
      if (policy.emails.length && deps.mailer) {
        const text = `${alert.summary}\n\nRule: ${alert.rule}\nSeverity: ${alert.severity}\nAutomatic actions: ${actions.join(', ') || 'none'}\nAlert: ${alert.id}\n\nEvidence:\n${JSON.stringify(alert.evidence, null, 2)}\n`
        for (const to of policy.emails) {
          try {
            await deps.mailer.send({ to, orgId: alert.orgId, subject: `[Sealpost] ${alert.severity} security alert: ${alert.rule}`, text })
            out.push({ channel: 'email', ok: true })
          } catch (err) {
            out.push({ channel: 'email', ok: false, detail: (err as Error).message })
          }
        }
      }
      return out
    },
  }
}

export type Notifier = ReturnType<typeof createNotifier>
