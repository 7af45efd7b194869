import { PassThrough } from 'node:stream'
import { createOutboundGuard } from '../../src/net/guard.ts'
import type { ResolveHost } from '../../src/net/resolve.ts'
import { createWebhookDispatcher, type DispatcherConfig } from '../../src/webhooks/dispatcher.ts'
import type { WebhookTransport } from '../../src/webhooks/transport.ts'
import type { DeliveryOutcome } from '../../src/delivery/contract.ts'
import { bearer, type SeededOrg, type TestApp } from '../helpers/harness.ts'

/** The transport app.ts builds, with the same SSRF guard; `resolve` lets a test play DNS. */
export function guardedTransport(allowPrivate: boolean, resolve?: ResolveHost): WebhookTransport {
  return createOutboundGuard({ allowPrivate, resolve })
}

/** Everything logged, to check that no secret is ever in it. */
export function logSink() {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (c) => lines.push(String(c)))
  const logger = { warn: (...a: unknown[]) => lines.push(JSON.stringify(a, errReplacer)), debug: (...a: unknown[]) => lines.push(JSON.stringify(a, errReplacer)) }
  return { stream, logger, text: () => lines.join('\n') }
}
const errReplacer = (_k: string, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v)

/** A dispatcher on the test app's storage and clock; jitter pinned to the top of each window. */
export function testDispatcher(h: TestApp, transport: WebhookTransport, logger: ReturnType<typeof logSink>['logger'], config: Partial<DispatcherConfig> = {}) {
  return createWebhookDispatcher({ db: h.db, cipher: h.app.envelope, clock: h.clock, transport, logger, random: () => 1, config })
}

export async function createWebhook(h: TestApp, org: SeededOrg, body: Record<string, unknown>) {
  const res = await h.http.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(org.liveKey), payload: body })
  if (res.statusCode !== 201) throw new Error(`create webhook: ${res.statusCode} ${res.body}`)
  return res.json() as { id: string; secret: string; url: string; events: string[]; enabled: boolean }
}

/** A message accepted by the API, and outcomes recorded through the same MessageSource the delivery worker uses. */
export async function sendMessage(h: TestApp, org: SeededOrg, domain: string, key = org.liveKey): Promise<string> {
  const res = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(key), payload: { from: `app@${domain}`, to: ['bob@example.com'], subject: 'hi', text: 'hi' } })
  if (res.statusCode !== 202) throw new Error(`send: ${res.statusCode} ${res.body}`)
  return res.json().id
}

export function recordOutcome(h: TestApp, org: SeededOrg, messageId: string, outcome: DeliveryOutcome) {
  return h.app.messageSource.recordOutcome(org.orgId, messageId, outcome, h.clock.now().getTime())
}

export const delivered: DeliveryOutcome = { kind: 'delivered', recipients: ['bob@example.com'], response: '250 2.0.0 queued as 12345' }
export const nowSec = (h: TestApp) => Math.floor(h.clock.now().getTime() / 1000)
