/** Who is calling, resolved once by auth/ and read by access/, limits/, audit/ and services. */
export type ActorType = 'key' | 'user' | 'oauth_client'
export type Environment = 'live' | 'test'

export interface Principal {
  orgId: string
  actor: { type: ActorType; id: string }
  scopes: readonly string[]
  environment: Environment
  /** Key or token id used for rate limits, quotas and anomaly baselines. */
  credentialId: string
  /** ABAC conditions attached to the credential (and its role), evaluated by access/. */
  conditions?: AccessConditions
  /** Session principals only: epoch ms of the user's last second factor (step-up freshness, users/step-up.ts). */
  mfaVerifiedAt?: number | null
}

export interface AccessConditions {
  ipRanges?: string[]
  timeWindows?: { days: number[]; start: string; end: string; timeZone: string }[]
  environments?: Environment[]
  /** From addresses the credential may send as (access/sender-domains.ts: domain, `*.domain`, address). */
  senderDomains?: string[]
}
