import type { SuppressionCheck } from '../messages/service.ts'

/** What contacts/ answers about opt-outs (ContactService implements it). */
export interface ContactOptOuts {
  unsubscribedAmong(orgId: string, addresses: string[]): Promise<Set<string>>
}

/**
 * The send path's exclusion check: the suppression list, plus contacts marked `unsubscribed`
 * (a contact created or updated with `unsubscribed: true` is never mailed, like a suppressed address).
 */
export function withContactOptOuts(suppressions: SuppressionCheck, contacts: ContactOptOuts): SuppressionCheck {
  return {
    async suppressed(orgId, addresses) {
      const [listed, optedOut] = await Promise.all([suppressions.suppressed(orgId, addresses), contacts.unsubscribedAmong(orgId, addresses)])
      return new Set([...listed, ...optedOut])
    },
  }
}
