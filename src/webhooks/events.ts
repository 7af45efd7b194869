/** The events customers can subscribe to. Names are `<object>.<what happened>`, like the rest of the industry. */
export const WEBHOOK_EVENT_TYPES = [
  'message.queued',
  'message.delivered',
  'message.deferred',
  'message.bounced',
  'message.failed',
  'message.sandboxed',
  'message.suppressed',
  'contact.unsubscribed',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]
export const isWebhookEventType = (s: string): s is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(s)

/** One event as a domain reports it; webhooks/ turns it into one outbox row per subscribed endpoint. */
export interface WebhookEvent {
  /** Stable id sent as `webhook-id` (and `Sealpost-Event-Id`) on every attempt; receivers de-duplicate on it. E.g. the message event's id. */
  id: string
  type: WebhookEventType
  /** Epoch ms when it happened. */
  at: number
  /** Event-specific fields (may hold recipient addresses: encrypted at rest in the outbox). */
  data: Record<string, unknown>
}
