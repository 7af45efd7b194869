import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createKey } from '../../src/keys/service.ts'

const msg = (over: Record<string, unknown> = {}) => ({ from: 'news@acme.test', to: ['alice@example.com'], subject: 'News', text: 'Hi', ...over })

for (const { name, skip } of await testDialects()) {
  test(`${name}: suppression list and one-click unsubscribe`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const other = await h.seedOrg('Other')
    const send = (body: unknown) => h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: body as object })
    const jobsFor = async (id: string) => (await h.db.selectFrom('delivery_jobs').select('id').where('message_id', '=', id).execute()).length

    await t.test('a suppressed address is never queued; the message says so', async () => {
      const add = await h.http.inject({ method: 'POST', url: '/v1/suppressions', headers: bearer(org.liveKey), payload: { address: 'Blocked@Example.com' } })
      assert.equal(add.statusCode, 201)
      const r = await send(msg({ to: ['blocked@example.com'] }))
      assert.equal(r.statusCode, 202)
      assert.equal(r.json().status, 'suppressed')
      assert.equal(await jobsFor(r.json().id), 0)
    })

    await t.test('only the suppressed recipients are dropped from a message', async () => {
      const r = await send(msg({ to: ['blocked@example.com', 'bob@example.com'] }))
      assert.equal(r.json().status, 'queued')
      const g = (await h.http.inject({ method: 'GET', url: `/v1/messages/${r.json().id}`, headers: bearer(org.liveKey) })).json()
      assert.deepEqual(g.to, ['bob@example.com'])
      assert.deepEqual(g.events.map((e: any) => e.type), ['suppressed', 'queued'])
    })

    await t.test('addresses are stored encrypted and listed masked without contacts:pii', async () => {
      const row = await h.db.selectFrom('suppressions').selectAll().where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
      assert.ok(!row.address.includes('example.com'))
      const limited = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'l', environment: 'live', scopes: ['suppressions:manage'] })
      const masked = (await h.http.inject({ method: 'GET', url: '/v1/suppressions', headers: bearer(limited.secret) })).json()
      assert.equal(masked.data[0].address, 'b***@example.com')
      const full = (await h.http.inject({ method: 'GET', url: '/v1/suppressions', headers: bearer(org.liveKey) })).json()
      assert.equal(full.data[0].address, 'blocked@example.com')
      const theirs = await h.http.inject({ method: 'DELETE', url: `/v1/suppressions/${row.id}`, headers: bearer(other.liveKey) })
      assert.equal(theirs.statusCode, 404)
    })

    await t.test('messages asking for it carry RFC 8058 headers; the one-click POST suppresses the recipient', async () => {
      const { id } = (await send(msg({ to: ['carol@example.com'], unsubscribe: true }))).json()
      const out = await h.app.messageSource.loadForDelivery(org.orgId, id)
      const [copy] = out!.perRecipient!
      assert.equal(copy.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click')
      const url = new URL(copy.headers['List-Unsubscribe'].slice(1, -1))
      assert.match(url.pathname, /^\/v1\/unsubscribe\//)
      const view = await h.http.inject({ method: 'GET', url: url.pathname })
      assert.equal(view.statusCode, 200)
      assert.match(view.body, /<form method="post">/)
      assert.equal((await send(msg({ to: ['carol@example.com'] }))).json().status, 'queued', 'GET must not unsubscribe')
      const click = await h.http.inject({ method: 'POST', url: url.pathname, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
      assert.equal(click.statusCode, 200, click.body)
      assert.equal((await send(msg({ to: ['carol@example.com'] }))).json().status, 'suppressed')
    })

    await t.test('a forged or tampered unsubscribe token changes nothing', async () => {
      const { id } = (await send(msg({ to: ['dave@example.com'], unsubscribe: true }))).json()
      const out = await h.app.messageSource.loadForDelivery(org.orgId, id)
      const path = new URL(out!.perRecipient![0].headers['List-Unsubscribe'].slice(1, -1)).pathname
      const [payload, mac] = path.split('/').pop()!.split('.')
      const forged = Buffer.from(`${other.orgId}.${id}.0`).toString('base64url')
      for (const token of [`${forged}.${mac}`, `${payload}.${mac.slice(0, -2)}AA`]) {
        const r = await h.http.inject({ method: 'POST', url: `/v1/unsubscribe/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' })
        assert.equal(r.statusCode, 404)
      }
      assert.equal((await send(msg({ to: ['dave@example.com'] }))).json().status, 'queued')
    })

    await t.test('a hard bounce adds the recipient to the suppression list', async () => {
      const { id } = (await send(msg({ to: ['gone@example.com'] }))).json()
      await h.app.messageSource.recordOutcome(org.orgId, id, { kind: 'failed', recipients: ['gone@example.com'], reason: '550 5.1.1 user unknown', bounce: 'hard' }, h.clock.now().getTime())
      const g = (await h.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: bearer(org.liveKey) })).json()
      assert.equal(g.status, 'failed')
      assert.equal(g.events.at(-1).type, 'bounced')
      assert.equal((await send(msg({ to: ['gone@example.com'] }))).json().status, 'suppressed')
    })
  })
}
