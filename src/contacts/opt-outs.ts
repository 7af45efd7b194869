import type { Environment } from '../core/principal.ts'
import type { SuppressionCheck } from '../messages/service.ts'

/** What contacts/ answers about opt-outs (ContactService implements it). */
export interface ContactOptOuts {
  unsubscribedAmong(orgId: string, addresses: string[], environment: Environment): Promise<Set<string>>
}

/**
 * The send path's exclusion check: the suppression list, plus contacts marked `unsubscribed`
 * (a contact created or updated with `unsubscribed: true` is never mailed, like a suppressed address).
 * Same environment rule as suppressions: a live send honours live contacts only (a test key cannot
 * opt a live recipient out); a test send honours both.
 */
export function withContactOptOuts(suppressions: SuppressionCheck, contacts: ContactOptOuts): SuppressionCheck {
  return {
    async suppressed(orgId, addresses, environment) {
      const [listed, optedOut] = await Promise.all([suppressions.suppressed(orgId, addresses, environment), contacts.unsubscribedAmong(orgId, addresses, environment)])
      return new Set([...listed, ...optedOut])
    },
  }
}
