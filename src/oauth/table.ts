import type { Selectable } from 'kysely'

/**
 * Every oidc-provider artifact (sessions, interactions, grants, codes, refresh
 * tokens, device codes...) in one table, keyed by model + id. Ids, grant ids,
 * uids and user codes are stored as HMACs so a database dump holds no usable
 * token; the payload is sealed (AES-256-GCM) with its model + id hash as AAD.
 */
export interface OAuthArtifactsTable {
  model: string
  id_hash: string
  /** Sealed JSON payload. */
  payload: string
  grant_hash: string | null
  uid_hash: string | null
  user_code_hash: string | null
  /** Epoch ms; null = no expiry (never used by oidc-provider in practice). */
  expires_at: number | null
  consumed_at: number | null
  /** Which client and (HMAC of) which account the artifact belongs to, to delete them on revocation. */
  client_id: string | null
  account_hash: string | null
}

export interface OAuthClientsTable {
  id: string
  org_id: string
  name: string
  /** confidential clients authenticate with a secret; public ones (SPAs, CLIs, devices) do not. */
  kind: 'confidential' | 'public'
  application_type: 'web' | 'native'
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none'
  /** HMAC-SHA256(pepper, secret) hex; null for public clients. */
  secret_hash: string | null
  secret_last4: string | null
  /** JSON arrays */
  grant_types: string
  scopes: string
  redirect_uris: string
  environment: 'live' | 'test'
  /** AccessConditions JSON inherited from the creator (only ever narrowed); tokens carry them. Null = none. */
  conditions: string | null
  /** Bumped by secret rotation: access tokens carrying an older generation are refused. */
  token_generation: number
  created_by: string | null
  created_at: number
  deleted_at: number | null
}

/** Signing keys: `next` is published before it signs, `retired` stays published until its tokens expire. */
export interface OAuthSigningKeysTable {
  kid: string
  alg: string
  state: 'next' | 'active' | 'retired'
  public_jwk: string
  /** Sealed private JWK. */
  private_jwk: string
  created_at: number
  activated_at: number | null
  retired_at: number | null
  /** When a retired key may be removed from the JWKS (every token it signed has expired). */
  remove_after: number | null
}

/** Access tokens are JWTs: revoking one (or its grant, or its client) lists it here until it would expire anyway. */
export interface OAuthRevocationsTable {
  /** `jti:<jti>`, `grant:<grant hash>` or `client:<client id>` */
  id: string
  revoked_at: number
  expires_at: number
}

/** Consent remembered per user and client: the scopes approved last time. */
export interface OAuthConsentsTable {
  client_id: string
  user_id: string
  org_id: string
  scopes: string
  granted_at: number
}

export interface OAuthTables {
  oauth_artifacts: OAuthArtifactsTable
  oauth_clients: OAuthClientsTable
  oauth_signing_keys: OAuthSigningKeysTable
  oauth_revocations: OAuthRevocationsTable
  oauth_consents: OAuthConsentsTable
}

export type OAuthClientRow = Selectable<OAuthClientsTable>
export type OAuthSigningKeyRow = Selectable<OAuthSigningKeysTable>
