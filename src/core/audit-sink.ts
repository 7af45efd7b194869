/**
 * How any domain records an administrative action (key created, role changed,
 * login failed...). audit/ implements it with batched, hash-chained writes;
 * `record` never blocks the caller and never throws.
 */
export interface AdminEvent {
  orgId: string | null
  actor: { type: 'key' | 'user' | 'oauth_client' | 'system'; id: string }
  /** dotted verb, e.g. `key.created`, `user.login_failed`, `mfa.enrolled` */
  action: string
  target?: { type: string; id: string }
  /** Must not contain secrets or PII; audit/ redacts known secret-like fields anyway. */
  details?: Record<string, unknown>
  ip?: string
  requestId?: string
  outcome?: 'success' | 'failure'
}

export interface AuditRecorder {
  record(event: AdminEvent): void
}

/** Used until audit/ is wired, and in unit tests that do not look at audit. */
export const discardAudit: AuditRecorder = { record: () => {} }
