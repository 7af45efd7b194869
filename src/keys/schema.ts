import { Type, type Static } from 'typebox'
import { ALL_SCOPES, type Scope } from '../access/scopes.ts'
import type { AccessConditions } from '../core/principal.ts'
import { MAX_POLICY_DAYS } from './policy.ts'

const KEY_ID = '^key_[0-9a-hjkmnp-tv-z]{26}$'
export const KeyIdParams = Type.Object({ id: Type.String({ pattern: KEY_ID }) }, { additionalProperties: false })

const ScopeName = Type.Union(ALL_SCOPES.map((s) => Type.Literal(s)))
const Environment = Type.Union([Type.Literal('live'), Type.Literal('test')])

/** API shape of AccessConditions (snake_case on the wire, like the rest of the API). */
export const Conditions = Type.Object({
  ip_ranges: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 64 }), { minItems: 1, maxItems: 50 })),
  time_windows: Type.Optional(Type.Array(Type.Object({
    days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7, description: '0 = Sunday ... 6 = Saturday' }),
    start: Type.String({ pattern: '^\\d\\d:\\d\\d$', description: 'HH:MM, inclusive' }),
    end: Type.String({ pattern: '^\\d\\d:\\d\\d$', description: 'HH:MM, exclusive; earlier than start spans midnight' }),
    time_zone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA name, e.g. Europe/Paris' }),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 14 })),
  environments: Type.Optional(Type.Array(Environment, { minItems: 1, maxItems: 2 })),
  sender_domains: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: 50, description: 'example.com, *.example.com (subdomains) or an exact address' })),
}, { additionalProperties: false })
export type ConditionsInput = Static<typeof Conditions>

export const CreateKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
  scopes: Type.Array(ScopeName, { minItems: 1, maxItems: ALL_SCOPES.length, uniqueItems: true }),
  environment: Environment,
  expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  conditions: Type.Optional(Conditions),
}, { additionalProperties: false })
// The scope union does not survive Static<> (it is built from an array): spell the field out.
export type CreateKeyInput = Omit<Static<typeof CreateKeyBody>, 'scopes'> & { scopes: Scope[] }

export const MAX_GRACE_SECONDS = 7 * 24 * 3600
export const DEFAULT_GRACE_SECONDS = 24 * 3600
export const RotateKeyBody = Type.Object({
  grace_period_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS, description: 'How long the old secret keeps working (default 86400; 0 = it dies now).' })),
}, { additionalProperties: false })

export const ListKeysQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: KEY_ID })),
}, { additionalProperties: false })

export const KeyPolicyBody = Type.Object({
  max_key_age_days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: MAX_POLICY_DAYS }), Type.Null()])),
  key_expiry_warning_days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POLICY_DAYS })),
}, { additionalProperties: false })

/** GitHub secret-scanning partner format: a JSON array of findings. */
export const LeakReportBody = Type.Array(Type.Object({
  token: Type.String({ minLength: 1, maxLength: 512 }),
  type: Type.String({ maxLength: 100 }),
  url: Type.String({ maxLength: 2048 }),
  source: Type.String({ maxLength: 100 }),
}, { additionalProperties: false }), { minItems: 1, maxItems: 1000 })
export type LeakReport = Static<typeof LeakReportBody>

const Iso = Type.Union([Type.String(), Type.Null()])
/** Response shape; the serializer drops anything not listed here, the field filter before it does too. */
export const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  environment: Type.String(),
  status: Type.String({ description: 'active | expired | suspended | revoked' }),
  scopes: Type.Array(Type.String()),
  conditions: Type.Union([Conditions, Type.Null()]),
  last4: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  expires_at: Iso,
  secret_issued_at: Iso,
  last_used_at: Iso,
  last_used_ip: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Iso,
  revoked_reason: Type.Union([Type.String(), Type.Null()]),
  suspended_at: Iso,
  suspended_reason: Type.Union([Type.String(), Type.Null()]),
})

export const KeyWithSecret = Type.Object({
  key: KeyView,
  secret: Type.String({ description: 'Shown once. Store it now: it cannot be retrieved again.' }),
  previous_secret_expires_at: Type.Optional(Iso),
})

export const KeyList = Type.Object({ data: Type.Array(KeyView), next_cursor: Type.Union([Type.String(), Type.Null()]) })

export function conditionsFromApi(c: ConditionsInput | undefined): AccessConditions | null {
  if (!c) return null
  const out: AccessConditions = {}
  if (c.ip_ranges) out.ipRanges = c.ip_ranges
  if (c.time_windows) out.timeWindows = c.time_windows.map((w) => ({ days: w.days, start: w.start, end: w.end, timeZone: w.time_zone }))
  if (c.environments) out.environments = c.environments
  if (c.sender_domains) out.senderDomains = c.sender_domains
  return out
}

export function conditionsToApi(c: AccessConditions | null): ConditionsInput | null {
  if (!c) return null
  const out: ConditionsInput = {}
  if (c.ipRanges) out.ip_ranges = c.ipRanges
  if (c.timeWindows) out.time_windows = c.timeWindows.map((w) => ({ days: w.days, start: w.start, end: w.end, time_zone: w.timeZone }))
  if (c.environments) out.environments = c.environments
  if (c.senderDomains) out.sender_domains = c.senderDomains
  return out
}
