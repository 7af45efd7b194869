import type { DeliveryOutcome } from './contract.ts'
import type { RecipientResult, SendReport } from './classify.ts'
import type { JobRecipient } from './recipients.ts'

export interface AttemptResult {
  outcomes: DeliveryOutcome[]
  /** Indices now final (delivered or failed). */
  settled: number[]
  /** First reason a recipient was not delivered this time (null: none). */
  reason: string | null
  /** Some recipients wait for a retry. */
  deferred: boolean
  /** Attempts ran out: the remaining recipients were failed. */
  gaveUp: boolean
}

/**
 * Maps one SMTP attempt back onto the job's recipients (every index, duplicates included)
 * and groups them into the outcomes messages/ records. Deferred recipients become
 * failed once `retryAt` is null (attempts exhausted), with the last reason kept.
 */
export function outcomesOf(report: SendReport, recipients: JobRecipient[], attempt: number, retryAt: number | null): AttemptResult {
  const byAddress = new Map(report.results.map((r) => [r.address.toLowerCase(), r]))
  const groups = new Map<string, { result: RecipientResult; indices: number[]; addresses: string[] }>()
  for (const r of recipients) {
    const result = byAddress.get(r.address.toLowerCase()) ?? { address: r.address, status: 'deferred' as const, detail: 'no result for this recipient' }
    const key = `${result.status}\u0000${result.detail}`
    const g = groups.get(key) ?? { result, indices: [], addresses: [] }
    g.indices.push(r.index)
    g.addresses.push(r.address)
    groups.set(key, g)
  }
  const outcomes: DeliveryOutcome[] = []
  const settled: number[] = []
  let deferredReason: string | null = null
  let gaveUp = false
  for (const { result, indices, addresses } of groups.values()) {
    if (result.status === 'delivered') {
      outcomes.push({ kind: 'delivered', recipients: addresses, response: result.detail })
      settled.push(...indices)
    } else if (result.status === 'failed') {
      outcomes.push({ kind: 'failed', recipients: addresses, reason: result.detail, bounce: result.destinationFault ? null : 'hard' })
      settled.push(...indices)
    } else if (retryAt === null) {
      const softBounce = result.code !== undefined && result.code >= 400 && result.code < 500
      outcomes.push({ kind: 'failed', recipients: addresses, reason: `gave up after ${attempt} attempts: ${result.detail}`, bounce: softBounce ? 'soft' : null })
      settled.push(...indices)
      deferredReason ??= result.detail
      gaveUp = true
    } else {
      outcomes.push({ kind: 'deferred', recipients: addresses, reason: result.detail, retryAt, attempt })
      deferredReason ??= result.detail
    }
  }
  return { outcomes, settled, reason: deferredReason, deferred: deferredReason !== null && !gaveUp, gaveUp }
}
