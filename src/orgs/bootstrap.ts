import { newId } from '../core/ids.ts'
import type { Clock } from '../core/clock.ts'
import type { Principal } from '../core/principal.ts'
import type { Db } from '../storage/db.ts'
import { ALL_SCOPES } from '../access/scopes.ts'
import { createKey } from '../keys/service.ts'
import { countOrgs, insertOrg } from './store.ts'

export interface BootstrapInput {
  orgName: string
  domain: string
  ownerEmail: string
}

export interface BootstrapDeps {
  db: Db
  pepper: string
  clock: Clock
  createDomain(owner: Principal, input: { name: string }): Promise<{ id: string; name: string; records: unknown[] }>
  /** users/ creates the owner (with a one-time password to change at first login). */
  createOwner?(orgId: string, email: string): Promise<{ userId: string; oneTimePassword?: string }>
}

/** Keys a fresh install needs to send: the live one delivers, the test one runs in the sandbox. */
const BOOTSTRAP_KEY_SCOPES = ['messages:send', 'messages:read', 'domains:manage', 'keys:manage', 'analytics:read', 'contacts:read', 'contacts:write', 'suppressions:manage'] as const

export async function isBootstrapped(db: Db): Promise<boolean> {
  return (await countOrgs(db)) > 0
}

/** Creates the first organization, its owner, a local sending domain and one live and one test key. */
export async function bootstrap(deps: BootstrapDeps, input: BootstrapInput) {
  const now = deps.clock.now().getTime()
  const orgId = newId('org', now)
  await insertOrg(deps.db, { id: orgId, name: input.orgName, created_at: now, settings: {} })
  const owner = await deps.createOwner?.(orgId, input.ownerEmail)
  const ownerPrincipal: Principal = {
    orgId, actor: { type: 'user', id: owner?.userId ?? 'bootstrap' }, scopes: ALL_SCOPES, environment: 'live', credentialId: 'bootstrap',
  }
  const domain = await deps.createDomain(ownerPrincipal, { name: input.domain })
  const live = await createKey(deps.db, deps.pepper, deps.clock, { orgId, name: 'Default live key', environment: 'live', scopes: BOOTSTRAP_KEY_SCOPES, createdBy: owner?.userId ?? null })
  const test = await createKey(deps.db, deps.pepper, deps.clock, { orgId, name: 'Default test key', environment: 'test', scopes: BOOTSTRAP_KEY_SCOPES, createdBy: owner?.userId ?? null })
  return { orgId, owner, domain, liveKey: live.secret, testKey: test.secret }
}

/** What `init` shows once: the keys and the owner's one-time password (secrets), the organization and the DNS records. */
export function bootstrapReport(r: Awaited<ReturnType<typeof bootstrap>>, ownerEmail: string): string {
  const lines = [
    '',
    'Sealpost is initialized. These secrets are shown ONCE; store them now.',
    '',
    `  organization   ${r.orgId}`,
    `  owner          ${ownerEmail}`,
    ...(r.owner?.oneTimePassword
      ? [`  one-time password   ${r.owner.oneTimePassword}`, '                 signs in once; that session must replace it and enrol MFA before anything else']
      : []),
    `  domain         ${r.domain.name}`,
    `  live API key   ${r.liveKey}`,
    `  test API key   ${r.testKey}   (sandbox: accepted and stored, never delivered)`,
    '',
    '  DNS records to publish for the domain:',
    ...(r.domain.records as { type: string; name: string; value: string }[]).map((rec) => `    ${rec.type} ${rec.name}  "${rec.value}"`),
    '',
  ]
  return lines.join('\n')
}
