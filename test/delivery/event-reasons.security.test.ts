/**
 * Finding 10: SMTP reply text in a message's events quoted recipient addresses in clear to keys
 * without contacts:pii. Reasons and responses are masked like the recipients themselves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createKey } from '../../src/keys/service.ts'
import { maskAddressesIn } from '../../src/messages/reads.ts'

test('addresses inside free text are masked, the rest of the text is kept', () => {
  assert.equal(maskAddressesIn('550 5.1.1 <bob@example.org>: Recipient address rejected'), '550 5.1.1 <b***@example.org>: Recipient address rejected')
  assert.equal(maskAddressesIn('250 2.1.5 Ok ann.lee+tag@mail.example.com, carol@example.net; queued'), '250 2.1.5 Ok a***@mail.example.com, c***@example.net; queued')
  assert.equal(maskAddressesIn('451 4.7.1 greylisted, try again'), '451 4.7.1 greylisted, try again')
  assert.equal(maskAddressesIn(42), 42)
})

test('a pathological reply is masked in linear time (watchdog bound, 10x margin)', () => {
  const long = `${'a'.repeat(200_000)}@${'b.'.repeat(50_000)} ${'x@'.repeat(50_000)}`
  const started = process.hrtime.bigint()
  maskAddressesIn(long)
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000, 'masking stalled')
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: event reasons are masked for callers without contacts:pii`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'acme.test')
    const sent = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: { from: 'news@acme.test', to: ['bob@example.org', 'ann@example.net'], subject: 'Hi', text: 'Hi' } })
    const id = sent.json().id as string
    const at = h.clock.now().getTime()
    await h.app.messageSource.recordOutcome(org.orgId, id, { kind: 'deferred', recipients: ['ann@example.net'], reason: '451 4.2.0 <ann@example.net>: mailbox busy', retryAt: at + 60_000, attempt: 1 }, at)
    await h.app.messageSource.recordOutcome(org.orgId, id, { kind: 'failed', recipients: ['bob@example.org'], reason: '550 5.1.1 <bob@example.org>: Recipient address rejected', bounce: 'hard' }, at)
    await h.app.messageSource.recordOutcome(org.orgId, id, { kind: 'delivered', recipients: ['ann@example.net'], response: '250 2.0.0 Ok: queued for ann@example.net' }, at)
    const reader = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: 'reader', environment: 'live', scopes: ['messages:read'] })
    const events = async (key: string) => {
      const r = await h.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: bearer(key) })
      assert.equal(r.statusCode, 200)
      return (r.json().events as Record<string, unknown>[]).filter((e) => e.reason || e.response).map((e) => [e.type, e.recipients, e.reason ?? e.response])
    }

    await t.test('without contacts:pii: the recipients and every address in the reply text are masked', async () => {
      const seen = await events(reader.secret)
      assert.deepEqual(seen, [
        ['deferred', ['a***@example.net'], '451 4.2.0 <a***@example.net>: mailbox busy'],
        ['bounced', ['b***@example.org'], '550 5.1.1 <b***@example.org>: Recipient address rejected'],
        ['delivered', ['a***@example.net'], '250 2.0.0 Ok: queued for a***@example.net'],
      ])
      assert.doesNotMatch(JSON.stringify(seen), /bob@|ann@/)
    })

    await t.test('with contacts:pii: in clear', async () => {
      assert.deepEqual(await events(org.liveKey), [
        ['deferred', ['ann@example.net'], '451 4.2.0 <ann@example.net>: mailbox busy'],
        ['bounced', ['bob@example.org'], '550 5.1.1 <bob@example.org>: Recipient address rejected'],
        ['delivered', ['ann@example.net'], '250 2.0.0 Ok: queued for ann@example.net'],
      ])
    })
  })
}
