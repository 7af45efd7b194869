import type { MessageSource } from '../delivery/contract.ts'
import type { Monitor } from './monitor.ts'

/**
 * Delivery workers report outcomes to the MessageSource; this wrapper also
 * hands each outcome to monitoring (delivery metrics, bounce-rate baselines).
 * With prepareOutcome the count happens when the writes run inside the worker's
 * transaction: a rolled-back transaction (rare; the job is retried) may be counted twice.
 */
export function withOutcomeMonitoring(source: MessageSource, monitor: Pick<Monitor, 'recordDeliveryOutcome'>): MessageSource {
  return {
    loadForDelivery: (orgId, messageId) => source.loadForDelivery(orgId, messageId),
    async prepareOutcome(orgId, messageId, outcome, at) {
      const write = await source.prepareOutcome(orgId, messageId, outcome, at)
      return async (trx) => {
        await write(trx)
        monitor.recordDeliveryOutcome(orgId, outcome, at)
      }
    },
    async recordOutcome(orgId, messageId, outcome, at) {
      await source.recordOutcome(orgId, messageId, outcome, at)
      monitor.recordDeliveryOutcome(orgId, outcome, at)
    },
  }
}
