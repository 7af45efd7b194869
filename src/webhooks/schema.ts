import { Type } from 'typebox'
import { WEBHOOK_EVENT_TYPES } from './events.ts'

const ID = (prefix: string) => `^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`
export const WebhookIdParams = Type.Object({ id: Type.String({ pattern: ID('whk') }) }, { additionalProperties: false })

const EventType = Type.Union(WEBHOOK_EVENT_TYPES.map((e) => Type.Literal(e)))
const Url = Type.String({ minLength: 8, maxLength: 2048, description: 'https:// endpoint that receives the events (POST, JSON).' })
const Events = Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true, description: 'Event types to receive (default: all).' })
const Description = Type.String({ maxLength: 200, pattern: '^[^\\x00-\\x1f\\x7f]*$' })

export const CreateWebhookBody = Type.Object({
  url: Url,
  events: Type.Optional(Events),
  description: Type.Optional(Description),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(Url),
  events: Type.Optional(Events),
  description: Type.Optional(Description),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 })

/** The rotate body is optional and takes nothing (the overlap is fixed at 24 h). */
export const RotateSecretBody = Type.Object({}, { additionalProperties: false })

export const PageQuery = (prefix: string) => Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  cursor: Type.Optional(Type.String({ pattern: ID(prefix) })),
}, { additionalProperties: false })

const Iso = Type.String({ format: 'date-time' })
const NullableIso = Type.Union([Iso, Type.Null()])

export const WebhookView = Type.Object({
  id: Type.String(), url: Type.String(), description: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()), enabled: Type.Boolean(), environment: Type.Union([Type.Literal('live'), Type.Literal('test')]),
  previous_secret_expires_at: NullableIso, created_at: Iso, updated_at: Iso,
})
export const WebhookWithSecret = Type.Object({ ...WebhookView.properties, secret: Type.String() })
export const WebhookList = Type.Object({ data: Type.Array(WebhookView), next_cursor: Type.Union([Type.String(), Type.Null()]) })

export const AttemptList = Type.Object({
  data: Type.Array(Type.Object({
    id: Type.String(), delivery_id: Type.String(), event_id: Type.String(), event_type: Type.String(), attempt: Type.Integer(),
    attempted_at: Iso, ok: Type.Boolean(), status_code: Type.Union([Type.Integer(), Type.Null()]), duration_ms: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()]),
    delivery_state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Null()]),
    next_attempt_at: NullableIso,
  })),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})
