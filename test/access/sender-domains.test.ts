import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeSenderPattern, senderAllowed, senderPatternWithin } from '../../src/access/sender-domains.ts'
import { narrowConditions, normalizeConditions } from '../../src/access/narrow-conditions.ts'
import { assertContained, intersectConditions } from '../../src/access/containment.ts'
import { AppError } from '../../src/core/errors.ts'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'

test('patterns: exact domain, *.subdomains, exact address; anything else refused', () => {
  assert.equal(normalizeSenderPattern('Billing.Example.COM'), 'billing.example.com')
  assert.equal(normalizeSenderPattern('*.Example.com'), '*.example.com')
  assert.equal(normalizeSenderPattern('Ops@Example.com'), 'ops@example.com')
  assert.equal(normalizeSenderPattern('bücher.de'), 'xn--bcher-kva.de')
  for (const bad of ['*', '*.com', 'a*.example.com', 'example', 'exa mple.com', '@example.com', 'a@*.example.com', '-a.com', 'a..b.com', '*@example.com']) {
    assert.equal(normalizeSenderPattern(bad), null, bad)
  }
  assert.throws(() => normalizeConditions({ senderDomains: ['ok.com', 'not a domain'] }), (e: AppError) =>
    e.code === 'invalid_request' && JSON.stringify(e.details).includes('senderDomains/1'))
})

test('matching: a domain is not its subdomains, a wildcard is not its apex, look-alikes never match', () => {
  const allowed = ['billing.example.com', '*.corp.example', 'ceo@example.org']
  assert.ok(senderAllowed(allowed, 'invoices@billing.example.com'))
  assert.ok(senderAllowed(allowed, 'INVOICES@Billing.Example.com'))
  assert.ok(!senderAllowed(allowed, 'x@eu.billing.example.com'))
  assert.ok(!senderAllowed(allowed, 'x@example.com'))
  assert.ok(senderAllowed(allowed, 'x@mail.corp.example'))
  assert.ok(senderAllowed(allowed, 'x@a.b.corp.example'))
  assert.ok(!senderAllowed(allowed, 'x@corp.example'))
  assert.ok(!senderAllowed(allowed, 'x@evilcorp.example'), 'suffix without the dot')
  assert.ok(!senderAllowed(allowed, 'x@billing.example.com.evil.test'))
  assert.ok(senderAllowed(allowed, 'ceo@example.org'))
  assert.ok(!senderAllowed(allowed, 'cfo@example.org'))
  assert.ok(!senderAllowed([], 'a@billing.example.com'))
})

test('within: narrower patterns only', () => {
  assert.ok(senderPatternWithin('a@x.com', ['x.com']))
  assert.ok(senderPatternWithin('a@m.x.com', ['*.x.com']))
  assert.ok(senderPatternWithin('m.x.com', ['*.x.com']))
  assert.ok(senderPatternWithin('*.m.x.com', ['*.x.com']))
  assert.ok(senderPatternWithin('*.x.com', ['*.x.com']))
  assert.ok(!senderPatternWithin('x.com', ['*.x.com']))
  assert.ok(!senderPatternWithin('*.x.com', ['x.com']))
  assert.ok(!senderPatternWithin('m.x.com', ['x.com']))
  assert.ok(!senderPatternWithin('x.com', ['a@x.com']))
  assert.ok(!senderPatternWithin('a@x.com', ['b@x.com']))
  assert.ok(!senderPatternWithin('a@evilx.com', ['x.com']))
  assert.ok(!senderPatternWithin('*.evilx.com', ['*.x.com']))
})

test('narrowing: inherited when left out, a subset is fine, wider is 403 naming the kind', () => {
  const creator = { senderDomains: ['*.example.com'] }
  assert.deepEqual(narrowConditions(creator, null), { senderDomains: ['*.example.com'] })
  assert.deepEqual(narrowConditions(creator, { senderDomains: ['billing.example.com'] }), { senderDomains: ['billing.example.com'] })
  assert.throws(() => narrowConditions(creator, { senderDomains: ['billing.example.com', 'other.test'] }), (e: AppError) =>
    e.code === 'forbidden' && (e.details as any).condition === 'senderDomains')
  assert.throws(() => narrowConditions(creator, { senderDomains: ['example.com'] }), (e: AppError) => e.code === 'forbidden')
  // Containment (rotate/reinstate/OAuth clients) uses the same rule.
  const p = { scopes: ['keys:manage'], environment: 'live' as const, conditions: creator }
  assert.throws(() => assertContained(p, { scopes: ['keys:manage'], environment: 'live', conditions: null }, 'rotate', 'key'), (e: AppError) =>
    (e.details as any).condition === 'senderDomains')
  assert.doesNotThrow(() => assertContained(p, { scopes: ['keys:manage'], environment: 'live', conditions: { senderDomains: ['a@b.example.com'] } }, 'rotate', 'key'))
  // A token through a client: both sides' patterns must hold.
  assert.deepEqual(intersectConditions({ senderDomains: ['*.example.com', 'x@other.test'] }, { senderDomains: ['billing.example.com', 'other.test'] })?.senderDomains?.sort(),
    ['billing.example.com', 'x@other.test'])
  assert.deepEqual(intersectConditions({ senderDomains: ['a.test'] }, { senderDomains: ['b.test'] })?.senderDomains, [])
  assert.deepEqual(intersectConditions({ senderDomains: ['a.test'] }, { environments: ['live'] })?.senderDomains, ['a.test'])
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: a key limited to some senders`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'billing.acme.test')
    await h.seedDomain(org.orgId, 'news.acme.test')
    const mkKey = async (creator: string, conditions?: object) => h.http.inject({
      method: 'POST', url: '/v1/keys', headers: bearer(creator),
      payload: { name: 'k', scopes: ['messages:send', 'messages:read', 'keys:manage'], environment: 'live', ...(conditions ? { conditions } : {}) },
    })
    const r = await mkKey(org.liveKey, { sender_domains: ['Billing.Acme.test'] })
    assert.equal(r.statusCode, 201, r.body)
    assert.deepEqual(r.json().key.conditions.sender_domains, ['billing.acme.test'])
    const billingKey = r.json().secret as string
    const msg = (from: string) => ({ from, to: ['a@example.com'], subject: 's', text: 't' })
    const count = async () => Number((await h.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', org.orgId).executeTakeFirstOrThrow()).n)

    await t.test('its domain is accepted, another of the org\'s domains is 403 sender_not_allowed', async () => {
      const ok = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(billingKey), payload: msg('inv@billing.acme.test') })
      assert.equal(ok.statusCode, 202, ok.body)
      const no = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(billingKey), payload: msg('promo@news.acme.test') })
      assert.equal(no.statusCode, 403)
      assert.equal(no.json().error.code, 'policy_denied')
      assert.equal(no.json().error.details.reason, 'sender_not_allowed')
      assert.ok(!no.body.includes('billing.acme.test'), 'the policy value is not revealed')
      // The unrestricted key still sends from both.
      assert.equal((await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: msg('promo@news.acme.test') })).statusCode, 202)
    })

    await t.test('a batch with one disallowed From is refused whole', async () => {
      const before = await count()
      const b = await h.http.inject({ method: 'POST', url: '/v1/messages/batch', headers: bearer(billingKey), payload: { messages: [msg('a@billing.acme.test'), msg('b@news.acme.test')] } })
      assert.equal(b.statusCode, 403)
      assert.equal(b.json().error.details.reason, 'sender_not_allowed')
      assert.equal(await count(), before)
    })

    await t.test('it can only create keys with a subset of its senders', async () => {
      const wider = await mkKey(billingKey, { sender_domains: ['billing.acme.test', 'news.acme.test'] })
      assert.equal(wider.statusCode, 403, wider.body)
      assert.equal(wider.json().error.details.condition, 'senderDomains')
      const sub = await mkKey(billingKey, { sender_domains: ['inv@billing.acme.test'] })
      assert.equal(sub.statusCode, 201, sub.body)
      const inherited = await mkKey(billingKey)
      assert.equal(inherited.statusCode, 201)
      assert.deepEqual(inherited.json().key.conditions.sender_domains, ['billing.acme.test'])
      const denied = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(inherited.json().secret), payload: msg('x@news.acme.test') })
      assert.equal(denied.json().error.details?.reason, 'sender_not_allowed')
      const bad = await mkKey(org.liveKey, { sender_domains: ['*'] })
      assert.equal(bad.statusCode, 400)
    })
  })
}
