import type { OutboundGuard } from '../net/guard.ts'

/**
 * Outbound HTTP for webhooks: the outbound guard of net/ (app.ts passes the one it builds,
 * shared with security alerts, so there is one SSRF guard).
 * - `check`: configuration time; throws unless the URL's scheme, port, host and every
 *   address it resolves to may be called.
 * - `post`: send time; checks again (DNS may have changed), connects only to the addresses
 *   it checked, never follows redirects, resolves with any answer's status.
 */
export type WebhookTransport = Pick<OutboundGuard, 'check' | 'post'>
