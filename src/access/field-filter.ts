import type { Principal } from '../core/principal.ts'

/**
 * Data minimization for responses: a view lists the fields a response may carry (allow-list) and, for
 * sensitive ones, the scope needed to see them in clear. Fields not listed are dropped, so a new column
 * (a hash, an internal flag, ciphertext) never leaks by accident.
 *
 *   const contactView = fieldFilter({
 *     id: true, createdAt: true,
 *     email: { scope: 'contacts:pii', mask: masks.email },   // masked without contacts:pii
 *     phone: { scope: 'contacts:pii' },                      // dropped without contacts:pii
 *     to: { scope: 'contacts:pii', mask: masks.email },      // arrays are masked element by element
 *     events: { nested: eventView },                         // objects and arrays of objects
 *   })
 *   reply.send(contactView(req.principal, row))            // one object
 *   reply.send({ data: contactView.many(req.principal, rows) })
 *
 * The rule for a field: `true` (always shown), or `{ scope?, mask?, nested? }`: without `scope` the
 * caller sees the value (masked by `mask` when given: always-masked fields); a missing scope applies
 * `mask`, or drops the field when there is no mask.
 */
export type Mask = (value: unknown) => unknown
export type FieldRule = true | { scope?: string; mask?: Mask; nested?: FieldFilter }
export type FieldRules = Record<string, FieldRule>

export interface FieldFilter {
  (principal: Pick<Principal, 'scopes'> | null, obj: Record<string, any>): Record<string, unknown>
  many(principal: Pick<Principal, 'scopes'> | null, list: readonly Record<string, any>[]): Record<string, unknown>[]
  readonly fields: readonly string[]
}

export function fieldFilter(rules: FieldRules): FieldFilter {
  const entries = Object.entries(rules)
  const apply = (principal: Pick<Principal, 'scopes'> | null, obj: Record<string, any>) => {
    const out: Record<string, unknown> = {}
    for (const [field, rule] of entries) {
      if (!Object.hasOwn(obj, field)) continue
      let value = obj[field]
      if (rule === true) { out[field] = value; continue }
      const allowed = !rule.scope || (principal?.scopes.includes(rule.scope) ?? false)
      if (allowed && rule.scope && !rule.nested) { out[field] = value; continue }
      if (!allowed && !rule.mask) continue
      if (rule.nested && value !== null && value !== undefined) {
        value = Array.isArray(value) ? rule.nested.many(principal, value) : rule.nested(principal, value)
      }
      if (rule.mask && (!allowed || !rule.scope)) value = applyMask(rule.mask, value)
      out[field] = value
    }
    return out
  }
  return Object.assign(apply, {
    many: (principal: Pick<Principal, 'scopes'> | null, list: readonly Record<string, any>[]) => list.map((o) => apply(principal, o)),
    fields: entries.map(([f]) => f),
  })
}

const applyMask = (mask: Mask, value: unknown) =>
  value === null || value === undefined ? value : Array.isArray(value) ? value.map((v) => mask(v)) : mask(value)

/** Masks that keep enough to recognise a value, not enough to use it. */
export const masks = {
  /** `alice@example.com` → `a***@example.com`; the domain stays (deliverability questions need it). */
  email: (v: unknown): unknown => {
    if (typeof v !== 'string') return v
    const at = v.lastIndexOf('@')
    if (at < 1) return '***'
    return `${v[0]}***${v.slice(at)}`
  },
  /** Everything but the last 4 characters. */
  last4: (v: unknown): unknown => (typeof v === 'string' ? `***${v.slice(-4)}` : v),
  redact: (): unknown => '[redacted]',
}
