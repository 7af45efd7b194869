import type Provider from 'oidc-provider'
import type { Db } from '../../storage/db.ts'
import type { Clock } from '../../core/clock.ts'

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>

/** What a consent decision is about: scopes requested for the API, split by what the user may grant. */
export interface ConsentPlan {
  orgId: string
  clientId: string
  userId: string
  oidcScopes: string[]
  grantable: string[]
  withheld: string[]
}

export function planConsent(interaction: Interaction, apiResource: string, orgId: string, userScopes: readonly string[]): ConsentPlan {
  const details = (interaction.prompt.details ?? {}) as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> }
  const requested = details.missingResourceScopes?.[apiResource] ?? []
  return {
    orgId,
    clientId: String(interaction.params.client_id),
    userId: String(interaction.session!.accountId),
    oidcScopes: details.missingOIDCScope ?? [],
    grantable: requested.filter((s) => userScopes.includes(s)),
    withheld: requested.filter((s) => !userScopes.includes(s)),
  }
}

/** Writes the grant oidc-provider will issue tokens from: granted scopes added, the rest explicitly rejected. */
export async function saveGrant(provider: Provider, interaction: Interaction, plan: ConsentPlan, apiResource: string): Promise<string> {
  const grant = interaction.grantId
    ? (await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId: plan.userId, clientId: plan.clientId })
    : new provider.Grant({ accountId: plan.userId, clientId: plan.clientId })
  if (plan.oidcScopes.length) grant.addOIDCScope(plan.oidcScopes.join(' '))
  if (plan.grantable.length) grant.addResourceScope(apiResource, plan.grantable.join(' '))
  if (plan.withheld.length) grant.rejectResourceScope(apiResource, plan.withheld.join(' '))
  return grant.save()
}

/** Consent is remembered per user and client: the union of what was approved before. */
export async function rememberedScopes(db: Db, clientId: string, userId: string): Promise<string[]> {
  const row = await db.selectFrom('oauth_consents').select('scopes').where('client_id', '=', clientId).where('user_id', '=', userId).executeTakeFirst()
  return row ? JSON.parse(row.scopes) : []
}

export async function rememberConsent(db: Db, clock: Clock, plan: ConsentPlan): Promise<void> {
  const scopes = [...new Set([...(await rememberedScopes(db, plan.clientId, plan.userId)), ...plan.grantable, ...plan.oidcScopes])]
  const row = { client_id: plan.clientId, user_id: plan.userId, org_id: plan.orgId, scopes: JSON.stringify(scopes), granted_at: clock.now().getTime() }
  await db.insertInto('oauth_consents').values(row)
    .onConflict((oc) => oc.columns(['client_id', 'user_id']).doUpdateSet({ scopes: row.scopes, granted_at: row.granted_at }))
    .execute()
}
