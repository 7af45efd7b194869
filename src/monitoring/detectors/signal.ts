import type { Severity } from '../table.ts'
import type { RuleName } from '../rules.ts'

/** What the response hook knows about a finished request (no body, no secrets). */
export interface RequestObservation {
  at: number
  ip: string
  method: string
  route: string | null
  status: number
  orgId: string | null
  /** The credential (key or token id) behind the principal, if any. */
  keyId: string | null
  authFailure: string | null
  /** For failed authentications: the public lookup id of the presented key, if it had the key format. */
  credentialHint: string | null
}

/** A detector's finding; the alert service stores it and the responder acts on it. */
export interface Signal {
  rule: RuleName
  severity: Severity
  orgId: string | null
  subject: { type: 'ip' | 'key' | 'org'; id: string }
  summary: string
  evidence: Record<string, unknown>
  /** What a response may act on. */
  keyId?: string | null
  ip?: string | null
  at: number
  /** Set when enforcement was applied in memory the moment the signal fired (see responder.preempt). */
  preempted?: { blockId?: string; blockUntil?: number; blockOrgId?: string | null }
}
