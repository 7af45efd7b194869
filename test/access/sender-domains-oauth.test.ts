import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { buildOAuthApp } from '../oauth/helpers.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: an OAuth client's token carries the client's sender_domains`, { skip }, async (t) => {
    const h = await buildOAuthApp({ dialect: name })
    t.after(() => h.close())
    await h.seedDomain(h.org.orgId, 'billing.acme.test')
    await h.seedDomain(h.org.orgId, 'news.acme.test')
    const created = await h.createClient({ name: 'mailer', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:send'], conditions: { sender_domains: ['billing.acme.test'] } })
    assert.deepEqual(created.conditions?.sender_domains, ['billing.acme.test'], JSON.stringify(created))
    const config = await h.discover(created.id, created.client_secret)
    const tokens = await client.clientCredentialsGrant(config, { scope: 'messages:send', resource: h.api })
    const send = async (from: string) => {
      const r = await fetch(`${h.base}/v1/messages`, { method: 'POST', headers: { ...bearer(tokens.access_token), 'content-type': 'application/json' }, body: JSON.stringify({ from, to: ['a@example.com'], subject: 's', text: 't' }) })
      return { status: r.status, body: await r.json() as any }
    }
    assert.equal((await send('inv@billing.acme.test')).status, 202)
    const denied = await send('promo@news.acme.test')
    assert.equal(denied.status, 403)
    assert.equal(denied.body.error.details.reason, 'sender_not_allowed')

    // A key limited to billing cannot register a client for news (containment).
    const k = await fetch(`${h.base}/v1/keys`, { method: 'POST', headers: { ...bearer(h.org.liveKey), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'b', environment: 'live', scopes: ['oauth:manage', 'messages:send'], conditions: { sender_domains: ['billing.acme.test'] } }) })
    const narrowKey = (await k.json() as any).secret
    await assert.rejects(h.createClient({ name: 'x', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:send'], conditions: { sender_domains: ['news.acme.test'] } }, narrowKey), (e: any) => e.status === 403)
    const inherited = await h.createClient({ name: 'y', kind: 'confidential', grant_types: ['client_credentials'], scopes: ['messages:send'] }, narrowKey)
    assert.deepEqual(inherited.conditions?.sender_domains, ['billing.acme.test'])
  })
}
