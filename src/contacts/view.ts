import { fieldFilter, masks } from '../access/field-filter.ts'

/** `Jane` → `J***`: enough to recognise a row in a list, not to use it. */
const maskName = (v: unknown): unknown => (typeof v === 'string' && v.length > 0 ? `${[...v][0]}***` : v)

/** Without contacts:pii, addresses and names are masked and attributes dropped. */
export const contactView = fieldFilter({
  id: true,
  email: { scope: 'contacts:pii', mask: masks.email },
  first_name: { scope: 'contacts:pii', mask: maskName },
  last_name: { scope: 'contacts:pii', mask: maskName },
  attributes: { scope: 'contacts:pii' },
  unsubscribed: true,
  environment: true,
  created_at: true,
  updated_at: true,
})
