import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { bearer } from '../helpers/harness.ts'
import { newId } from '../../src/core/ids.ts'
import { addUser, browser, buildUsersApp, enrolTotp, totpAt } from '../users/helpers.ts'

const MINUTE = 60_000

// Exporting data (the audit log, a contact's personal data) is a sensitive action:
// a session user needs a second factor from the last 5 minutes; API keys are exempt.
for (const { name, skip } of await testDialects()) {
  test(`${name}: data exports demand a fresh second factor from session users`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const admin = await addUser(h, org.orgId, 'admin')
    const created = await h.http.inject({ method: 'POST', url: '/v1/contacts', headers: bearer(org.liveKey), payload: { email: 'jane@example.com', first_name: 'Jane' } })
    assert.equal(created.statusCode, 201, created.body)
    const contactId = created.json().id as string
    const exports = ['/v1/audit-events/export', `/v1/contacts/${contactId}/export`]

    const b = browser(h)
    await b.send('POST', '/v1/auth/login', { email: admin.email, password: 'correct horse battery staple 42' })
    const { secret } = await enrolTotp(h, b)
    // enrolTotp moved the clock 30 s past the enrolment factor: still fresh.
    for (const url of exports) assert.equal((await b.send('GET', url)).statusCode, 200, url)

    await t.test('6 minutes after the last factor, both exports are 403 step_up_required', async () => {
      h.clock.advance(6 * MINUTE)
      for (const url of exports) {
        const r = await b.send('GET', url)
        assert.equal(r.statusCode, 403, url)
        assert.equal(r.json().error.code, 'step_up_required', url)
        assert.doesNotMatch(r.body, /jane/i)
      }
      // A stale session does not learn whether a contact exists either.
      const missing = await b.send('GET', `/v1/contacts/${newId('con')}/export`)
      assert.equal(missing.json().error.code, 'step_up_required')
    })

    await t.test('after a fresh TOTP both exports succeed', async () => {
      const step = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, secret) })
      assert.equal(step.statusCode, 200, step.body)
      await h.app.audit.writer.flush()
      const audit = await b.send('GET', exports[0])
      assert.equal(audit.statusCode, 200)
      assert.match(audit.headers['content-type'] as string, /ndjson/)
      assert.match(audit.body, /"\/v1\/contacts"/, 'the org\'s events (the contact creation) are in the export')
      const contact = await b.send('GET', exports[1])
      assert.equal(contact.statusCode, 200)
      assert.equal(contact.json().contact.email, 'jane@example.com')
    })

    await t.test('API keys are exempt (no person to re-authenticate)', async () => {
      h.clock.advance(60 * MINUTE)
      for (const url of exports) assert.equal((await h.http.inject({ method: 'GET', url, headers: bearer(org.liveKey) })).statusCode, 200, url)
    })
  })
}
