import * as client from 'openid-client'
import { buildTestApp, bearer, type TestApp, type SeededOrg } from '../helpers/harness.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import type { OAuthUsers } from '../../src/oauth/users-port.ts'

export interface OAuthTestApp extends TestApp {
  base: string
  issuer: string
  api: string
  org: SeededOrg
  /** Adds a sending domain to the org and verifies it against an in-test DNS zone. */
  verifiedDomain(name: string): Promise<void>
  /** Registers a client through the API (as the org's admin key) and returns the API's answer. */
  createClient(body: Record<string, unknown>, key?: string): Promise<any>
  discover(clientId: string, secret?: string, metadata?: Partial<client.ClientMetadata>): Promise<client.Configuration>
}

/** A test app listening on a loopback port, so the issuer is real and openid-client talks HTTP to it. */
export async function buildOAuthApp(opts: { dialect?: DialectName; users?: OAuthUsers } = {}): Promise<OAuthTestApp> {
  const zone = new Map<string, string[][]>()
  const h = await buildTestApp({ dialect: opts.dialect, deps: { ...(opts.users ? { oauthUsers: opts.users } : {}), dnsResolver: { resolveTxt: async (n) => zone.get(n) ?? [] } } })
  await h.http.listen({ port: 0, host: '127.0.0.1' })
  const a = h.http.server.address() as { port: number }
  const base = `http://127.0.0.1:${a.port}`
  const org = await h.seedOrg()
  return Object.assign(h, {
    base, issuer: `${base}/oauth`, api: `${base}/v1`, org,
    async verifiedDomain(name: string) {
      const dom = await h.seedDomain(org.orgId, name)
      for (const r of dom.records) zone.set(r.name, [...(zone.get(r.name) ?? []), [r.value]])
      const owner = { orgId: org.orgId, actor: { type: 'user' as const, id: 'usr_seed' }, scopes: ['domains:manage'], environment: 'live' as const, credentialId: 'seed' }
      await h.app.domains.verify(owner, dom.id)
    },
    async createClient(body: Record<string, unknown>, key = org.liveKey) {
      const r = await fetch(`${base}/v1/oauth/clients`, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const json = await r.json()
      if (r.status !== 201) throw Object.assign(new Error(`client creation failed: ${r.status} ${JSON.stringify(json)}`), { status: r.status, body: json })
      return json
    },
    async discover(clientId: string, secret?: string, metadata: Partial<client.ClientMetadata> = {}) {
      return client.discovery(new URL(`${base}/oauth`), clientId, { ...metadata }, secret ? client.ClientSecretBasic(secret) : client.None(), {
        execute: [client.allowInsecureRequests], algorithm: 'oauth2',
      })
    },
  })
}

export async function apiGet(app: OAuthTestApp, path: string, token: string) {
  const r = await fetch(`${app.base}${path}`, { headers: bearer(token) })
  return { status: r.status, body: await r.json().catch(() => null) as any }
}
