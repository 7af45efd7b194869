/**
 * Proven domains (issue 13 item 3, finding 4): live mail only from a domain whose DNS this
 * organization proved (its own ownership token, DKIM, SPF, DMARC); another organization's
 * verification of the same name proves nothing for a second claimant; the DNS owner wins.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer, type TestApp, type SeededOrg } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { bootstrap } from '../../src/orgs/bootstrap.ts'

interface Rec { name: string; value: string; purpose: string }
const mail = (from: string, over: Record<string, unknown> = {}) => ({ from, to: ['victim@example.com'], subject: 'Invoice', text: 'Pay now', ...over })

function api(h: TestApp) {
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
    h.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) })
  return {
    call,
    addDomain: async (org: SeededOrg, name: string) => {
      const r = await call('POST', '/v1/domains', org.liveKey, { name })
      assert.equal(r.statusCode, 201, r.body)
      return r.json() as { id: string; name: string; status: string; records: Rec[]; last_check: { purpose: string; ok: boolean }[] | null }
    },
    verify: async (org: SeededOrg, id: string) => {
      const r = await call('POST', `/v1/domains/${id}/verify`, org.liveKey)
      assert.equal(r.statusCode, 200, r.body)
      return r.json() as { status: string; last_check: { purpose: string; ok: boolean }[] }
    },
    status: async (org: SeededOrg, id: string) => (await call('GET', `/v1/domains/${id}`, org.liveKey)).json().status as string,
    send: (key: string, body: object) => call('POST', '/v1/messages', key, body),
  }
}

const rec = (records: Rec[], purpose: string) => records.find((r) => r.purpose === purpose)!
const checkOf = (d: { last_check: { purpose: string; ok: boolean }[] }) => Object.fromEntries(d.last_check.map((c) => [c.purpose, c.ok]))

for (const { name, skip } of await testDialects()) {
  test(`${name}: proven domains`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const a = api(h)
    const messagesOf = async (orgId: string) => (await h.db.selectFrom('messages').select('id').where('org_id', '=', orgId).execute()).length

    await t.test('the bootstrap domain is pending: its live key is refused with domain_not_verified, its test key still works', async () => {
      const boot = await bootstrap(h.app.bootstrapDeps, { orgName: 'Fresh', domain: 'sealpost.localhost', ownerEmail: 'owner@fresh.test' })
      assert.equal((boot.domain as unknown as { status: string }).status, 'pending')
      const from = 'Sealpost <hello@sealpost.localhost>'
      const live = await a.send(boot.liveKey, mail(from))
      assert.equal(live.statusCode, 403, live.body)
      assert.equal(live.json().error.code, 'domain_not_verified')
      assert.match(live.json().error.message, /sealpost\.localhost is pending/)
      assert.deepEqual(live.json().error.details, [{ path: 'from', message: 'domain pending', domain_id: boot.domain.id }])
      assert.equal(await messagesOf(boot.orgId), 0, 'nothing stored, nothing queued')
      const sandbox = await a.send(boot.testKey, mail(from))
      assert.equal(sandbox.statusCode, 202, sandbox.body)
    })

    await t.test('every domain shows its own ownership token record; two organizations get different tokens for one name', async () => {
      const o1 = await h.seedOrg('One')
      const o2 = await h.seedOrg('Two')
      const d1 = await a.addDomain(o1, 'Shared.Example')
      const d2 = await a.addDomain(o2, 'shared.example')
      assert.equal(d1.status, 'pending')
      assert.equal(d2.status, 'pending')
      const v1 = rec(d1.records, 'verification')
      const v2 = rec(d2.records, 'verification')
      assert.equal(v1.name, '_sealpost-verification.shared.example')
      assert.match(v1.value, /^sealpost-verify=[0-9a-f]{32}$/)
      assert.equal(v2.name, v1.name)
      assert.notEqual(v2.value, v1.value)
    })

    await t.test('finding 4: B adds paypal.com unverified → live send refused, test send accepted', async () => {
      const b = await h.seedOrg('Mallory')
      const d = await a.addDomain(b, 'paypal.com')
      assert.equal(d.status, 'pending')
      const live = await a.send(b.liveKey, mail('security@paypal.com'))
      assert.equal(live.statusCode, 403)
      assert.equal(live.json().error.code, 'domain_not_verified')
      const batch = await a.call('POST', '/v1/messages/batch', b.liveKey, { messages: [mail('security@paypal.com')] })
      assert.equal(batch.statusCode, 403)
      assert.equal(batch.json().error.details[0].path, 'messages[0].from')
      assert.equal(await messagesOf(b.orgId), 0)
      const test = await a.send(b.testKey, mail('security@paypal.com'))
      assert.equal(test.statusCode, 202, test.body)
      const out = await h.app.messageSource.loadForDelivery(b.orgId, test.json().id)
      assert.equal(out!.senderVerified, false, 'delivery sees the domain unproven (the sandbox never signs or sends it)')
    })

    await t.test('finding 4: B adds sealpost.localhost already verified by A → pending, no live mail, needs its own TXT proof', async () => {
      const orgA = await h.seedOrg('A')
      const orgB = await h.seedOrg('B')
      const domA = await h.seedDomain(orgA.orgId, 'sealpost.localhost')
      assert.equal(domA.status, 'verified')
      assert.equal((await a.send(orgA.liveKey, mail('billing@sealpost.localhost'))).statusCode, 202)

      const domB = await a.addDomain(orgB, 'sealpost.localhost')
      assert.equal(domB.status, 'pending')
      const from = 'Billing <billing@sealpost.localhost>'
      const refused = await a.send(orgB.liveKey, mail(from))
      assert.equal(refused.statusCode, 403)
      assert.equal(refused.json().error.code, 'domain_not_verified')

      // A's records (its token, its DKIM key, the shared SPF and DMARC) are all in DNS: none proves B.
      let v = await a.verify(orgB, domB.id)
      assert.equal(v.status, 'pending')
      assert.deepEqual(checkOf(v), { verification: false, dkim: false, spf: true, dmarc: true })
      // B's DKIM key published, still no B token: pending.
      h.publish([rec(domB.records, 'dkim')])
      v = await a.verify(orgB, domB.id)
      assert.equal(v.status, 'pending')
      assert.deepEqual(checkOf(v), { verification: false, dkim: true, spf: true, dmarc: true })
      assert.equal((await a.send(orgB.liveKey, mail(from))).statusCode, 403)
      assert.equal(await messagesOf(orgB.orgId), 0)

      // B's own token beside A's: the DNS owner authorizes both, both verified.
      h.publish([rec(domB.records, 'verification')])
      assert.equal((await a.verify(orgB, domB.id)).status, 'verified')
      assert.equal((await a.send(orgB.liveKey, mail(from))).statusCode, 202)
      assert.equal(await a.status(orgA, domA.id), 'verified')
    })

    await t.test('the DNS owner wins: when B proves a name whose DNS no longer carries A’s records, A’s claim becomes failing', async () => {
      const orgA = await h.seedOrg('Old owner')
      const orgB = await h.seedOrg('New owner')
      const domA = await h.seedDomain(orgA.orgId, 'moved.example')
      const queued = await a.send(orgA.liveKey, mail('news@moved.example'))
      assert.equal(queued.statusCode, 202)
      const domB = await a.addDomain(orgB, 'moved.example')
      // The name changed hands: its zone now carries B's records only.
      for (const r of domB.records) h.dns.set(r.name, [[r.value]])
      assert.equal((await a.verify(orgB, domB.id)).status, 'verified')

      assert.equal(await a.status(orgA, domA.id), 'failing')
      const refused = await a.send(orgA.liveKey, mail('news@moved.example'))
      assert.equal(refused.statusCode, 403)
      assert.match(refused.json().error.message, /moved\.example is failing/)
      // Accepted while A was verified: delivery refuses to sign it now (defence in depth).
      const out = await h.app.messageSource.loadForDelivery(orgA.orgId, queued.json().id)
      assert.equal(out!.senderVerified, false)
      await h.app.audit.writer.flush()
      const audit = await h.db.selectFrom('audit_events').select(['action', 'org_id']).where('org_id', '=', orgA.orgId).execute()
      assert.ok(audit.some((e) => e.action === 'domain.failing'), 'A is told in its own audit log')
      // A can prove it again only with its own token back in DNS.
      assert.equal((await a.verify(orgA, domA.id)).status, 'failing')
      h.publish(domA.records)
      assert.equal((await a.verify(orgA, domA.id)).status, 'verified')
    })

    await t.test('a verified parent does not cover another organization’s subdomain: B’s mail.<A’s domain> needs B’s own proof', async () => {
      const orgA = await h.seedOrg('Parent')
      const orgB = await h.seedOrg('Sub')
      const parent = await h.seedDomain(orgA.orgId, 'parent.example')
      const sub = await a.addDomain(orgB, 'mail.parent.example')
      assert.equal(sub.status, 'pending')
      assert.equal((await a.send(orgB.liveKey, mail('x@mail.parent.example'))).json().error.code, 'domain_not_verified')
      // A's parent records sit in the zone; B's DKIM, SPF and DMARC at the subdomain, but not B's token.
      h.publish(sub.records.filter((r) => r.purpose !== 'verification'))
      assert.deepEqual(checkOf(await a.verify(orgB, sub.id)), { verification: false, dkim: true, spf: true, dmarc: true })
      assert.equal(await a.status(orgB, sub.id), 'pending')
      h.publish([rec(sub.records, 'verification')])
      assert.equal((await a.verify(orgB, sub.id)).status, 'verified')
      assert.equal(await a.status(orgA, parent.id), 'verified', 'a proven subdomain leaves the parent alone')
      // The parent's owner has no claim on the subdomain by having verified the parent.
      assert.equal((await a.send(orgA.liveKey, mail('x@mail.parent.example'))).json().error.code, 'domain_not_allowed')
    })

    await t.test('B’s verified subdomain does not block A’s parent; A’s proof of the parent fails B’s subdomain only once its records are gone', async () => {
      const orgA = await h.seedOrg('Apex')
      const orgB = await h.seedOrg('Tenant')
      const sub = await h.seedDomain(orgB.orgId, 'sub.apex.example')
      const apex = await a.addDomain(orgA, 'apex.example')
      h.publish(apex.records)
      assert.equal((await a.verify(orgA, apex.id)).status, 'verified')
      assert.equal(await a.status(orgB, sub.id), 'verified')
      // The apex owner takes the subdomain back (B's token removed), then proves the apex again.
      h.dns.delete(rec(sub.records, 'verification').name)
      assert.equal((await a.verify(orgA, apex.id)).status, 'verified')
      assert.equal(await a.status(orgB, sub.id), 'failing')
    })

    await t.test('a verified domain whose own records disappear becomes failing on its next check', async () => {
      const org = await h.seedOrg('Lapsed')
      const d = await h.seedDomain(org.orgId, 'lapsed.example')
      h.dns.delete(rec(d.records, 'dkim').name)
      const v = await a.verify(org, d.id)
      assert.equal(v.status, 'failing')
      assert.equal(checkOf(v).dkim, false)
      assert.equal((await a.send(org.liveKey, mail('x@lapsed.example'))).json().error.code, 'domain_not_verified')
    })
  })
}
