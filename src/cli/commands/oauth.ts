/**
 * `npm run cli -- oauth …`: OAuth clients (the same service as /v1/oauth/clients)
 * and the signing key ring. A client secret is printed once, at creation or rotation.
 */
import { parseArgs } from 'node:util'
import { openRuntime } from '../../boot.ts'
import { systemClock, MINUTE, type Clock } from '../../core/clock.ts'
import { discardAudit } from '../../core/audit-sink.ts'
import { isAppError } from '../../core/errors.ts'
import { ALL_SCOPES } from '../../access/scopes.ts'
import type { FieldCipher } from '../../crypto/cipher.ts'
import type { Db } from '../../storage/db.ts'
import { openKeyProvider } from '../../crypto/open-provider.ts'
import { createEnvelope } from '../../crypto/envelope.ts'
import { createOAuthClientService, type ClientActor, type GrantType } from '../../oauth/clients/service.ts'
import { createRevocationList } from '../../oauth/revocations.ts'
import { clientTokenHooks } from '../../oauth/service.ts'
import { createKeyRing } from '../../oauth/signing-keys.ts'
import { createAtRest } from '../../oauth/at-rest.ts'
import { TTL } from '../../oauth/provider.ts'

export const summary = 'OAuth: clients create|list|delete|rotate-secret, keys list|rotate'

const usage = `usage: npm run cli -- oauth <command>
  clients create --org ORG --name NAME --kind confidential|public [--app web|native]
                 --grant GRANT... --scope SCOPE... [--redirect-uri URI...] [--env live|test]
  clients list --org ORG
  clients delete --org ORG --id CLIENT_ID
  clients rotate-secret --org ORG --id CLIENT_ID
  keys list
  keys rotate [--force]      promote the published next key (refused before its lead time unless --force)
grants: authorization_code refresh_token client_credentials urn:ietf:params:oauth:grant-type:device_code`

export interface OAuthCliDeps { db: Db; pepper: string; cipher: FieldCipher; clock?: Clock }

/** The command itself, without process concerns (tests call it directly). Returns the exit code. */
export async function runOAuthCommand(argv: string[], deps: OAuthCliDeps, out: (line: string) => void = console.log): Promise<number> {
  const [area, cmd, ...rest] = argv
  const clock = deps.clock ?? systemClock
  const { values } = parseArgs({
    args: rest, allowPositionals: false, strict: true,
    options: {
      org: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' }, app: { type: 'string' },
      grant: { type: 'string', multiple: true }, scope: { type: 'string', multiple: true }, 'redirect-uri': { type: 'string', multiple: true },
      env: { type: 'string' }, force: { type: 'boolean' },
    },
  })
  const afterLastToken = TTL.accessToken * 1000 + MINUTE
  if (area === 'keys') {
    const ring = createKeyRing({ db: deps.db, clock, atRest: createAtRest(deps.cipher), policy: { publishLeadMs: 15 * MINUTE, retainMs: afterLastToken, rotateAfterMs: 30 * 24 * 60 * MINUTE } })
    if (cmd === 'list') {
      await ring.ensure()
      for (const k of await ring.list()) out(`${k.kid}  ${k.alg}  ${k.state.padEnd(7)}  created ${new Date(k.createdAt).toISOString()}${k.removeAfter ? `  published until ${new Date(k.removeAfter).toISOString()}` : ''}`)
      return 0
    }
    if (cmd === 'rotate') {
      const r = await ring.rotate({ force: values.force })
      out(`active ${r.activeKid}; retired ${r.retiredKid ?? '-'}; next (published, not signing) ${r.nextKid}`)
      out('running servers pick this up within a minute')
      return 0
    }
  }
  if (area === 'clients' && values.org) {
    const revocations = createRevocationList({ db: deps.db, clock, ttlMs: afterLastToken })
    const clients = createOAuthClientService({ db: deps.db, pepper: deps.pepper, clock, audit: discardAudit, ...clientTokenHooks(deps.db, revocations) })
    // The operator holds everything, in the environment of the client it acts on (containment needs one).
    const org = values.org
    const operator = (environment: 'live' | 'test'): ClientActor => ({ orgId: org, actor: { type: 'system', id: 'cli' }, scopes: ALL_SCOPES, environment })
    const operatorFor = async (id: string) => operator((await clients.get(org, id)).environment)
    if (cmd === 'create' && values.name && (values.kind === 'confidential' || values.kind === 'public')) {
      const c = await clients.create(operator(values.env === 'test' ? 'test' : 'live'), {
        name: values.name, kind: values.kind, applicationType: values.app === 'native' ? 'native' : 'web',
        grantTypes: (values.grant ?? []) as GrantType[], scopes: values.scope ?? [], redirectUris: values['redirect-uri'] ?? [],
        environment: values.env === 'test' ? 'test' : 'live',
      })
      out(`client_id      ${c.id}`)
      if (c.client_secret) out(`client_secret  ${c.client_secret}    (shown once: store it now)`)
      return 0
    }
    if (cmd === 'list') {
      for (const c of await clients.list(values.org, { limit: 100 })) out(`${c.id}  ${c.kind.padEnd(12)}  ${c.name}  [${c.grant_types.join(', ')}]  ${c.scopes.join(' ')}`)
      return 0
    }
    if (cmd === 'delete' && values.id) { await clients.remove(await operatorFor(values.id), values.id); out(`deleted ${values.id}; its tokens stop working`); return 0 }
    if (cmd === 'rotate-secret' && values.id) {
      out(`client_secret  ${(await clients.rotateSecret(await operatorFor(values.id), values.id)).client_secret}    (shown once: store it now)`)
      return 0
    }
  }
  out(usage)
  return 2
}

export async function run(argv: string[]): Promise<number> {
  const rt = await openRuntime(process.env, { createSecrets: false })
  const provider = await openKeyProvider(rt.config, { createKeyfile: false })
  try {
    const cipher = await createEnvelope({ db: rt.storage.db, provider, clock: systemClock })
    return await runOAuthCommand(argv, { db: rt.storage.db, pepper: rt.pepper, cipher })
  } catch (e) {
    if (isAppError(e)) { console.error(`${e.code}: ${e.message}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`); return 1 }
    throw e
  } finally {
    await provider.close()
    await rt.storage.close()
  }
}
