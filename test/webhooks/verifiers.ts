import { mock } from 'node:test'
import type { IncomingHttpHeaders } from 'node:http'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import { Resend } from 'resend'

/** What each real receiver library says: 'ok', or the message it threw. */
export interface Verdicts { standardwebhooks: string; svix: string; resend: string }
export const ALL_OK: Verdicts = { standardwebhooks: 'ok', svix: 'ok', resend: 'ok' }
export const all = (message: string): Verdicts => ({ standardwebhooks: message, svix: message, resend: message })

const verdict = (fn: () => unknown): string => {
  try { fn(); return 'ok' } catch (err) { return (err as Error).message }
}
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v ?? '')

/**
 * Verifies a received delivery the way a customer would, with the three official libraries,
 * each holding only `secret`. `atSec`: the receiver's clock (the libraries read Date.now and
 * fix the tolerance at 300 s), so a test clock far from the wall clock can still be checked.
 */
export function verifyWithAll(secret: string, headers: IncomingHttpHeaders | Record<string, string>, body: string, atSec?: number): Verdicts {
  const h = headers as Record<string, string | string[] | undefined>
  const id = one(h['webhook-id']), timestamp = one(h['webhook-timestamp']), signature = one(h['webhook-signature'])
  const run = () => ({
    standardwebhooks: verdict(() => new StandardWebhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature })),
    svix: verdict(() => new SvixWebhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature })),
    resend: verdict(() => new Resend('re_test_only_for_verify').webhooks.verify({ payload: body, headers: { id, timestamp, signature }, webhookSecret: secret })),
  })
  if (atSec === undefined) return run()
  mock.timers.enable({ apis: ['Date'], now: atSec * 1000 })
  try { return run() } finally { mock.timers.reset() }
}
