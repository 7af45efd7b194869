import { AppError, notFound } from '../../core/errors.ts'
import { newId } from '../../core/ids.ts'
import type { Clock } from '../../core/clock.ts'
import type { AccessConditions, Environment, Principal } from '../../core/principal.ts'
import type { AuditRecorder } from '../../core/audit-sink.ts'
import type { Db } from '../../storage/db.ts'
import { isScope } from '../../access/scopes.ts'
import { environmentsVisibleTo } from '../../access/sandbox.ts'
import { normalizeConditions } from '../../access/narrow-conditions.ts'
import { assertContained, containedNew, type CredentialVerb } from '../../access/containment.ts'
import { conditionsToApi, type ConditionsInput } from '../../keys/schema.ts'
import type { OAuthClientRow } from '../table.ts'
import { checkRedirectUris } from './redirect-uris.ts'
import { generateClientSecret, hashClientSecret } from './secret.ts'
import { findClient, insertClient, listClients, markClientDeleted, replaceClientSecret } from './store.ts'

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** Implicit and password grants do not exist here (OAuth 2.1). */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT] as const
export type GrantType = (typeof GRANT_TYPES)[number]

export interface NewClientInput {
  name: string
  kind: 'confidential' | 'public'
  applicationType?: 'web' | 'native'
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post'
  grantTypes: GrantType[]
  scopes: string[]
  redirectUris?: string[]
  /** Default: the creator's environment (containment: it must equal the creator's anyway). */
  environment?: Environment
  /** Narrower than the creator's; whatever is left out is inherited from the creator. */
  conditions?: AccessConditions | null
}

/** The API speaks RFC 7591 client metadata names (snake_case). */
export interface ClientView {
  id: string
  name: string
  kind: 'confidential' | 'public'
  application_type: 'web' | 'native'
  token_endpoint_auth_method: string
  grant_types: string[]
  scopes: string[]
  redirect_uris: string[]
  environment: Environment
  conditions: ConditionsInput | null
  secret_last4: string | null
  created_at: string
}

/** Who manages clients: a request's principal, or the operator's CLI (actor `system`). */
export type ClientActor = Pick<Principal, 'orgId' | 'scopes' | 'environment' | 'conditions'> & { actor: { type: Principal['actor']['type'] | 'system'; id: string } }

export const clientConditions = (row: Pick<OAuthClientRow, 'conditions'>): AccessConditions | null =>
  row.conditions ? (JSON.parse(row.conditions) as AccessConditions) : null

export function clientView(row: OAuthClientRow): ClientView {
  return {
    id: row.id, name: row.name, kind: row.kind, application_type: row.application_type,
    token_endpoint_auth_method: row.token_endpoint_auth_method,
    grant_types: JSON.parse(row.grant_types), scopes: JSON.parse(row.scopes), redirect_uris: JSON.parse(row.redirect_uris),
    environment: row.environment, conditions: conditionsToApi(clientConditions(row)), secret_last4: row.secret_last4, created_at: new Date(row.created_at).toISOString(),
  }
}

const invalid = (message: string, details?: unknown) => new AppError('invalid_request', message, { details })

/** Rules a client registration must satisfy; returns the normalised input. */
function validate(input: NewClientInput) {
  const grantTypes = [...new Set(input.grantTypes)]
  const scopes = [...new Set(input.scopes)]
  const redirectUris = [...new Set(input.redirectUris ?? [])]
  const applicationType = input.applicationType ?? 'web'
  const unknown = scopes.filter((s) => !isScope(s))
  if (unknown.length) throw invalid('Unknown scopes.', { scopes: unknown })
  if (input.kind === 'public' && grantTypes.includes('client_credentials')) throw invalid('Public clients cannot use client_credentials.')
  if (input.kind === 'public' && input.tokenEndpointAuthMethod) throw invalid('Public clients do not authenticate at the token endpoint.')
  if (grantTypes.includes('refresh_token') && !grantTypes.some((g) => g === 'authorization_code' || g === DEVICE_CODE_GRANT)) {
    throw invalid('refresh_token needs authorization_code or the device grant.')
  }
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw invalid('authorization_code needs at least one redirect URI.')
  if (!grantTypes.includes('authorization_code') && redirectUris.length) throw invalid('Redirect URIs are only used by authorization_code.')
  const bad = checkRedirectUris(redirectUris, applicationType)
  if (bad) throw invalid('Redirect URI refused.', { reason: bad })
  return { grantTypes, scopes, redirectUris, applicationType }
}

export interface OAuthClientServiceDeps {
  db: Db
  pepper: string
  clock: Clock
  audit: AuditRecorder
  /** The client is gone: end every grant, refresh token and access token it holds. */
  onDeleted(clientId: string): Promise<void>
  /** The secret changed: tokens minted under the old one must die (grants and refresh tokens deleted). */
  onSecretRotated(clientId: string): Promise<void>
}

/**
 * OAuth clients are credentials: containment (access/containment.ts) decides create, secret rotation
 * and deletion exactly as it does for API keys. A client's scopes, environment and conditions are
 * contained in its creator's, and its tokens inherit them.
 */
export function createOAuthClientService(deps: OAuthClientServiceDeps) {
  const { db, pepper, clock, audit } = deps

  function assertCanManage(principal: ClientActor, row: OAuthClientRow, verb: CredentialVerb) {
    assertContained(principal, { scopes: JSON.parse(row.scopes) as string[], environment: row.environment, conditions: clientConditions(row) }, verb, 'OAuth client')
  }

  async function load(orgId: string, id: string): Promise<OAuthClientRow> {
    const row = await findClient(db, orgId, id)
    if (!row) throw notFound('OAuth client')
    return row
  }

  async function create(actor: ClientActor, input: NewClientInput): Promise<ClientView & { client_secret?: string }> {
    const v = validate(input)
    // Least privilege: nobody hands a client more than they hold themselves, nor sheds a condition.
    const target = containedNew(actor, { scopes: v.scopes, environment: input.environment, conditions: normalizeConditions(input.conditions) }, 'OAuth client')
    const now = clock.now().getTime()
    const secret = input.kind === 'confidential' ? generateClientSecret() : null
    const row: OAuthClientRow = {
      id: newId('oac', now), org_id: actor.orgId, name: input.name, kind: input.kind,
      application_type: v.applicationType,
      token_endpoint_auth_method: input.kind === 'public' ? 'none' : (input.tokenEndpointAuthMethod ?? 'client_secret_basic'),
      secret_hash: secret ? hashClientSecret(pepper, secret.secret) : null, secret_last4: secret?.last4 ?? null,
      grant_types: JSON.stringify(v.grantTypes), scopes: JSON.stringify(v.scopes), redirect_uris: JSON.stringify(v.redirectUris),
      environment: target.environment, conditions: target.conditions ? JSON.stringify(target.conditions) : null, token_generation: 0,
      created_by: actor.actor.id, created_at: now, deleted_at: null,
    }
    await insertClient(db, row)
    audit.record({ orgId: actor.orgId, actor: actor.actor, action: 'oauth.client_created', target: { type: 'oauth_client', id: row.id }, details: { kind: row.kind, grantTypes: v.grantTypes, scopes: v.scopes, environment: row.environment, conditions: row.conditions !== null } })
    return { ...clientView(row), ...(secret ? { client_secret: secret.secret } : {}) }
  }

  /** `environment`: the caller's; a test caller sees only test clients (access/sandbox.ts). */
  async function get(orgId: string, id: string, environment: Environment = 'live'): Promise<ClientView> {
    const row = await load(orgId, id)
    if (!environmentsVisibleTo({ environment }).includes(row.environment)) throw notFound('OAuth client')
    return clientView(row)
  }

  async function list(orgId: string, opts: { after?: string; limit?: number } = {}, environment: Environment = 'live'): Promise<ClientView[]> {
    return (await listClients(db, orgId, { after: opts.after, limit: opts.limit ?? 50, environments: environmentsVisibleTo({ environment }) })).map(clientView)
  }

  /** Deleting a client ends every token it holds: access tokens on their next request (the client is gone), grants and refresh tokens at once. */
  async function remove(actor: ClientActor, id: string): Promise<void> {
    assertCanManage(actor, await load(actor.orgId, id), 'delete')
    if (!(await markClientDeleted(db, actor.orgId, id, clock.now().getTime()))) throw notFound('OAuth client')
    await deps.onDeleted(id)
    audit.record({ orgId: actor.orgId, actor: actor.actor, action: 'oauth.client_deleted', target: { type: 'oauth_client', id } })
  }

  /** A new secret, and the end of every token minted under the old one (a leaked secret's tokens die with it). */
  async function rotateSecret(actor: ClientActor, id: string): Promise<{ client_secret: string }> {
    const row = await load(actor.orgId, id)
    if (row.kind !== 'confidential') throw notFound('Confidential OAuth client')
    assertCanManage(actor, row, 'rotate')
    const secret = generateClientSecret()
    if (!(await replaceClientSecret(db, actor.orgId, id, hashClientSecret(pepper, secret.secret), secret.last4))) {
      throw notFound('Confidential OAuth client')
    }
    await deps.onSecretRotated(id)
    audit.record({ orgId: actor.orgId, actor: actor.actor, action: 'oauth.client_secret_rotated', target: { type: 'oauth_client', id } })
    return { client_secret: secret.secret }
  }

  return { create, get, list, remove, rotateSecret }
}

export type OAuthClientService = ReturnType<typeof createOAuthClientService>
