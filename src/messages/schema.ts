import { Type, type Static } from 'typebox'

const Address = Type.String({ minLength: 3, maxLength: 512, description: 'addr@example.com or "Name <addr@example.com>"' })
const AddressList = Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: 50 })])

export const Attachment = Type.Object({
  filename: Type.String({ minLength: 1, maxLength: 255 }),
  content: Type.String({ minLength: 1, description: 'base64' }),
  content_type: Type.Optional(Type.String({ minLength: 3, maxLength: 127 })),
}, { additionalProperties: false })

export const SendBody = Type.Object({
  from: Address,
  to: AddressList,
  cc: Type.Optional(AddressList),
  bcc: Type.Optional(AddressList),
  reply_to: Type.Optional(AddressList),
  subject: Type.String({ minLength: 1, maxLength: 998 }),
  text: Type.Optional(Type.String({ maxLength: 5_000_000 })),
  html: Type.Optional(Type.String({ maxLength: 5_000_000 })),
  headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,76}$' }), Type.String({ maxLength: 998 }), { maxProperties: 20 })),
  attachments: Type.Optional(Type.Array(Attachment, { maxItems: 20 })),
  tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), { maxItems: 10 })),
  metadata: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }), Type.String({ maxLength: 500 }), { maxProperties: 20 })),
  send_at: Type.Optional(Type.String({ format: 'date-time' })),
  /** Adds RFC 8058 one-click List-Unsubscribe headers (marketing mail). */
  unsubscribe: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })
export type SendInput = Static<typeof SendBody>

export const BatchBody = Type.Object({
  messages: Type.Array(SendBody, { minItems: 1, maxItems: 500 }),
}, { additionalProperties: false })

export const Accepted = Type.Object({
  id: Type.String(),
  status: Type.String(),
  created_at: Type.String(),
  send_at: Type.Union([Type.String(), Type.Null()]),
})

export const MessageStatusValues = ['scheduled', 'queued', 'deferred', 'delivered', 'partially_delivered', 'failed', 'sandboxed', 'suppressed', 'canceled'] as const

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ pattern: '^msg_[0-9a-hjkmnp-tv-z]{26}$' })),
  status: Type.Optional(Type.Union(MessageStatusValues.map((s) => Type.Literal(s)))),
  tag: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
  created_after: Type.Optional(Type.String({ format: 'date-time' })),
  created_before: Type.Optional(Type.String({ format: 'date-time' })),
}, { additionalProperties: false })
export type ListInput = Static<typeof ListQuery>
