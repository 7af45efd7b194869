import { Type, type Static } from 'typebox'
import { ID_PATTERN } from '../core/ids.ts'

const Name = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])
const Attributes = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.String({ maxLength: 1000 }), { maxProperties: 50 })

export const CreateContactBody = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 320 }),
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
  attributes: Type.Optional(Attributes),
  unsubscribed: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })
export type CreateContactInput = Static<typeof CreateContactBody>

export const UpdateContactBody = Type.Object({
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
  attributes: Type.Optional(Type.Union([Attributes, Type.Null()])),
  unsubscribed: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 })
export type UpdateContactInput = Static<typeof UpdateContactBody>

export const ListContactsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  cursor: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  /** Exact lookup through the blind index (the address itself is never stored in clear). */
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
}, { additionalProperties: false })
export type ListContactsInput = Static<typeof ListContactsQuery>

export const ContactParams = Type.Object({ id: Type.String({ pattern: '^con_[0-9a-hjkmnp-tv-z]{26}$' }) }, { additionalProperties: false })
