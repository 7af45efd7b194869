/** /readyz reflects the database; POST /v1/domains/:id/verify reports each DNS record's result. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import type { TxtResolver } from '../../src/domains/dns-check.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: /readyz answers 503 when the database is down, while /healthz stays 200`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close().catch(() => {}))
    assert.equal((await h.http.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    await h.app.deps.storage.close()
    const r = await h.http.inject({ method: 'GET', url: '/readyz' })
    assert.equal(r.statusCode, 503)
    assert.deepEqual(r.json().error.code, 'unavailable')
    assert.doesNotMatch(r.body, /sqlite|postgres|SELECT|stack/i, 'no internals in the answer')
    assert.equal((await h.http.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  })
}

/** A zone in memory: TXT name → records (each record one chunk). */
function zone(records: Record<string, string[]>): TxtResolver & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    async resolveTxt(n) {
      asked.push(n)
      if (!records[n]) throw Object.assign(new Error(`queryTxt ENOTFOUND ${n}`), { code: 'ENOTFOUND' })
      return records[n].map((v) => [v])
    },
  }
}

test('domain verification: every record published → verified; each record\'s result is reported', async (t) => {
  const records: Record<string, string[]> = {}
  const resolver = zone(records)
  const h = await buildTestApp({ deps: { dnsResolver: resolver } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  const created = await h.http.inject({ method: 'POST', url: '/v1/domains', headers: bearer(org.liveKey), payload: { name: 'verify.example' } })
  assert.equal(created.statusCode, 201, created.body)
  const d = created.json()
  const byPurpose = Object.fromEntries(d.records.map((r: any) => [r.purpose, r]))
  assert.deepEqual(Object.keys(byPurpose).sort(), ['dkim', 'dmarc', 'spf', 'verification'])
  const verify = async () => {
    const r = await h.http.inject({ method: 'POST', url: `/v1/domains/${d.id}/verify`, headers: bearer(org.liveKey) })
    assert.equal(r.statusCode, 200, r.body)
    return r.json()
  }
  const results = (v: any) => Object.fromEntries(v.last_check.map((c: any) => [c.purpose, c.ok]))

  // Nothing published: each record fails, the domain stays pending.
  let v = await verify()
  assert.equal(v.status, 'pending')
  assert.deepEqual(results(v), { verification: false, dkim: false, spf: false, dmarc: false })
  records[byPurpose.verification.name] = [byPurpose.verification.value]

  // DKIM right, SPF without our include, DMARC published: only SPF fails, still pending.
  records[byPurpose.dkim.name] = [byPurpose.dkim.value]
  records[byPurpose.spf.name] = ['v=spf1 include:_spf.elsewhere.example ~all']
  records[byPurpose.dmarc.name] = [byPurpose.dmarc.value]
  v = await verify()
  assert.equal(v.status, 'pending')
  assert.deepEqual(results(v), { verification: true, dkim: true, spf: false, dmarc: true })
  assert.deepEqual(v.last_check.find((c: any) => c.purpose === 'spf').found, ['v=spf1 include:_spf.elsewhere.example ~all'])

  // A DKIM record with another key fails even with everything else right.
  records[byPurpose.spf.name] = [byPurpose.spf.value]
  records[byPurpose.dkim.name] = ['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnotthekey']
  v = await verify()
  assert.deepEqual(results(v), { verification: true, dkim: false, spf: true, dmarc: true })
  assert.equal(v.status, 'pending')

  // All three published: verified, with the time.
  records[byPurpose.dkim.name] = [byPurpose.dkim.value]
  v = await verify()
  assert.deepEqual(results(v), { verification: true, dkim: true, spf: true, dmarc: true })
  assert.equal(v.status, 'verified')
  assert.ok(v.verified_at)

  // The records go away: the next check says which one, and the domain is failing.
  delete records[byPurpose.dkim.name]
  v = await verify()
  assert.deepEqual(results(v), { verification: true, dkim: false, spf: true, dmarc: true })
  assert.equal(v.status, 'failing')
  assert.ok(resolver.asked.includes(byPurpose.dkim.name), 'the injected resolver was asked')
})
