/**
 * System mail through Sealpost's own pipeline: a real worker delivers to the loopback TLS sink,
 * DKIM-signed with the sending domain's key; password reset by email end to end.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import PostalMime from 'postal-mime'
import { buildTestApp, bearer, type TestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'
import { testCerts } from '../helpers/certs.ts'
import { txtResolver } from '../delivery/fixtures.ts'
import { ORIGIN, PASSWORD, addUser, browser, signIn } from '../users/helpers.ts'
import { hashToken, hmacHex } from '../../src/users/tokens.ts'
import { createMemoryOutbox, tokenFromMail } from '../../src/users/mail.ts'

const NEW_PASSWORD = 'a different long passphrase 77'

async function mailApp(dialect: 'sqlite' | 'postgres', sink: SmtpSink | null, env: Record<string, string> = {}) {
  const certs = await testCerts()
  const h = await buildTestApp({
    dialect,
    env: { SEALPOST_PUBLIC_URL: ORIGIN, DELIVERY_POLL_MS: '20', ...(sink ? { SMTP_URL: sink.url, SMTP_CA_FILE: certs.caFile } : {}), ...env },
  })
  const org = await h.seedOrg('Operator')
  const domain = await h.seedDomain(org.orgId, 'sealpost.test')
  const dkim = domain.records.find((r) => r.purpose === 'dkim')!
  return { h, org, resolver: txtResolver({ [dkim.name]: dkim.value }) }
}

/** The message the sink received for this recipient, waiting for the worker. */
async function received(sink: SmtpSink, to: string, nth = 1) {
  const end = Date.now() + 30_000
  for (;;) {
    const hits = sink.messages.filter((m) => m.envelope.rcptTo.includes(to))
    if (hits.length >= nth) return hits[nth - 1]
    if (Date.now() > end) throw new Error(`no mail #${nth} for ${to} reached the sink`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until the worker has finished every message (before moving the test clock past a delivery lease). */
async function allDelivered(h: TestApp) {
  for (let i = 0; i < 1500; i++) {
    const rows = await h.db.selectFrom('messages').select('status').execute()
    if (rows.every((r) => r.status === 'delivered')) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('messages not delivered')
}

/** The token line of the decoded plain-text part (quoted-printable wraps it in the raw message). */
const tokenIn = async (raw: Buffer) => /^token: ([A-Za-z0-9_-]{43})$/m.exec((await PostalMime.parse(raw)).text ?? '')?.[1] ?? null
const rowsFor = (h: TestApp, email: string) =>
  h.db.selectFrom('system_mail').selectAll().where('recipient_hash', '=', hmacHex((h.app.deps.pepper), 'system-mail-recipient', email)).orderBy('id').execute()

for (const dialect of await testDialects()) {
  describe(`${dialect.name}: system mail`, { skip: dialect.skip }, () => {
    test('an invitation is a system message, delivered over TLS and DKIM-signed by the system domain', async (t) => {
      const sink = await startSmtpSink()
      const { h, org, resolver } = await mailApp(dialect.name, sink)
      const workers = await h.app.startWorkers()
      t.after(async () => { await workers.stop(); await h.close(); await sink.close() })

      const r = await h.http.inject({ method: 'POST', url: '/v1/invitations', headers: bearer(org.liveKey), payload: { email: 'newcomer@example.com', role: 'developer' } })
      assert.equal(r.statusCode, 201, r.body)
      const m = await received(sink, 'newcomer@example.com')
      assert.equal(m.secure, true)
      assert.match(m.tlsProtocol ?? '', /^TLSv1\.[23]$/)
      assert.equal(m.envelope.mailFrom, 'no-reply@sealpost.test')
      const dkim = await dkimVerify(m.raw, { resolver, strict: true } as any)
      assert.deepEqual(dkim.results.map((x: any) => [x.status.result, x.signingDomain]), [['pass', 'sealpost.test']])
      const parsed = await PostalMime.parse(m.raw)
      assert.match(parsed.text ?? '', /invited to join an organization[\s\S]*an organization administrator invited this address/, 'templated: plain text with the footer')
      assert.match(parsed.html ?? '', /<a href="https:\/\/sealpost\.test\/accept-invitation#token=[A-Za-z0-9_-]{43}">/, 'templated: HTML with the link')
      // The token in the mail is the invitation's (stored hashed).
      const token = (await tokenIn(m.raw))
      assert.ok(token, 'the mail carries the token line')
      const inv = await h.db.selectFrom('invitations').select('token_hash').where('org_id', '=', org.orgId).executeTakeFirstOrThrow()
      assert.equal(inv.token_hash, hashToken(token))

      await allDelivered(h)
      // Visible in the API: a message of the system domain's organization, marked system: true.
      const list = (await h.http.inject({ method: 'GET', url: '/v1/messages', headers: bearer(org.liveKey) })).json().data
      assert.equal(list.length, 1)
      assert.equal(list[0].system, true)
      assert.deepEqual(list[0].tags, ['sealpost-system', 'invitation'])
      assert.equal(list[0].from, 'no-reply@sealpost.test')
      const log = (await h.http.inject({ method: 'GET', url: '/v1/system-mail', headers: bearer(org.liveKey) })).json().data
      assert.deepEqual(log.map((x: any) => [x.kind, x.outcome, x.message_id, x.message_status]), [['invitation', 'queued', list[0].id, 'delivered']])
    })

    test('a customer message is not system: true, and another org sees none of the system mail', async (t) => {
      const { h, org } = await mailApp(dialect.name, null)
      t.after(() => h.close())
      const other = await h.seedOrg('Other')
      await h.seedDomain(other.orgId, 'other.test')
      const r = await h.http.inject({ method: 'POST', url: '/v1/invitations', headers: bearer(org.liveKey), payload: { email: 'x@example.com', role: 'developer' } })
      assert.equal(r.statusCode, 201, r.body)
      const s = await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(other.liveKey), payload: { from: 'a@other.test', to: 'b@example.com', subject: 'hi', text: 'hi' } })
      assert.equal(s.statusCode, 202, s.body)
      const mine = (await h.http.inject({ method: 'GET', url: '/v1/messages', headers: bearer(other.liveKey) })).json().data
      assert.deepEqual(mine.map((m: any) => m.system), [false])
      assert.deepEqual((await h.http.inject({ method: 'GET', url: '/v1/system-mail', headers: bearer(other.liveKey) })).json().data, [])
      const narrow = await h.seedOrg('Narrow', ['messages:read'])
      assert.equal((await h.http.inject({ method: 'GET', url: '/v1/system-mail', headers: bearer(narrow.liveKey) })).statusCode, 403)
    })

    test('password reset: same 202 for an unknown address and nothing sent; the token works once, then never', async (t) => {
      const sink = await startSmtpSink()
      const { h, org } = await mailApp(dialect.name, sink)
      const workers = await h.app.startWorkers()
      t.after(async () => { await workers.stop(); await h.close(); await sink.close() })
      const user = await addUser(h, org.orgId, 'developer', 'reset-me@example.com')
      const before = await signIn(h, user.email)
      assert.equal((await before.send('GET', '/v1/auth/session')).statusCode, 200)

      const ask = (email: string) => browser(h).send('POST', '/v1/auth/password-reset', { email })
      const unknown = await ask('nobody@example.com')
      const known = await ask(user.email)
      assert.equal(unknown.statusCode, 202)
      assert.equal(known.statusCode, 202)
      assert.equal(unknown.body, known.body, 'no enumeration: the same answer')
      const m = await received(sink, user.email)
      assert.equal(sink.messages.filter((x) => x.envelope.rcptTo.includes('nobody@example.com')).length, 0, 'nothing sent to an unknown address')
      assert.deepEqual(await rowsFor(h, 'nobody@example.com'), [])
      assert.equal((await h.db.selectFrom('user_tokens').select('user_id').where('purpose', '=', 'password_reset').execute()).length, 1)
      const token = (await tokenIn(m.raw))!
      assert.ok(token)
      const stored = await h.db.selectFrom('user_tokens').select('token_hash').where('purpose', '=', 'password_reset').executeTakeFirstOrThrow()
      assert.equal(stored.token_hash, hashToken(token), 'stored hashed, never in clear')

      const confirm = (password: string, tok = token) => browser(h).send('POST', '/v1/auth/password-reset/confirm', { token: tok, password })
      const weak = await confirm('password1234')
      assert.equal(weak.statusCode, 400, 'the password policy applies')
      const ok = await confirm(NEW_PASSWORD)
      assert.equal(ok.statusCode, 200, ok.body)
      assert.equal((await before.send('GET', '/v1/auth/session')).statusCode, 401, 'every session signed out')
      const again = await confirm('yet another long passphrase 99')
      assert.equal(again.statusCode, 404, 'single use')
      assert.equal(again.json().error.code, 'not_found')
      const oldLogin = await browser(h).send('POST', '/v1/auth/login', { email: user.email, password: PASSWORD })
      assert.equal(oldLogin.statusCode, 401)
      const newLogin = await browser(h).send('POST', '/v1/auth/login', { email: user.email, password: NEW_PASSWORD })
      assert.equal(newLogin.statusCode, 200, newLogin.body)
    })

    test('password reset: a token expires after 30 minutes; an earlier one dies with the reset', async (t) => {
      const sink = await startSmtpSink()
      const { h, org } = await mailApp(dialect.name, sink)
      const workers = await h.app.startWorkers()
      t.after(async () => { await workers.stop(); await h.close(); await sink.close() })
      const user = await addUser(h, org.orgId, 'developer', 'late@example.com')
      const ask = () => browser(h).send('POST', '/v1/auth/password-reset', { email: user.email })
      const confirm = (token: string) => browser(h).send('POST', '/v1/auth/password-reset/confirm', { token, password: NEW_PASSWORD })

      assert.equal((await ask()).statusCode, 202)
      const first = (await tokenIn((await received(sink, user.email, 1)).raw))!
      await allDelivered(h)
      h.clock.advance(29 * 60_000)
      assert.equal((await ask()).statusCode, 202)
      const second = (await tokenIn((await received(sink, user.email, 2)).raw))!
      assert.notEqual(second, first)
      await allDelivered(h)
      h.clock.advance(60_000 + 1)
      const weakOnExpired = await browser(h).send('POST', '/v1/auth/password-reset/confirm', { token: first, password: 'password1234' })
      assert.equal(weakOnExpired.statusCode, 404, 'an expired link is refused before the password is judged')
      assert.equal((await confirm(first)).statusCode, 404, 'expired after 30 minutes')
      // Two live tokens: using one spends the other.
      assert.equal((await ask()).statusCode, 202)
      const third = (await tokenIn((await received(sink, user.email, 3)).raw))!
      assert.notEqual(third, second)
      assert.equal((await confirm(third)).statusCode, 200)
      assert.equal((await confirm(second)).statusCode, 404, 'an outstanding earlier token dies with the reset')
    })
  })
}

test('system mail is capped per recipient and hour; the drop is recorded, the caller still gets 202', async (t) => {
  const { h } = await mailApp('sqlite', null, { SEALPOST_SYSTEM_MAIL_PER_HOUR: '2' })
  t.after(() => h.close())
  const org = await h.db.selectFrom('orgs').select('id').executeTakeFirstOrThrow()
  await addUser(h, org.id, 'developer', 'flooded@example.com')
  for (let i = 0; i < 3; i++) assert.equal((await browser(h).send('POST', '/v1/auth/password-reset', { email: 'Flooded@Example.com' })).statusCode, 202)
  for (let i = 0; i < 500 && (await rowsFor(h, 'flooded@example.com')).length < 3; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual((await rowsFor(h, 'flooded@example.com')).map((r) => r.outcome), ['queued', 'queued', 'rate_limited'])
  const messages = await h.db.selectFrom('messages').select('id').execute()
  assert.equal(messages.length, 2)
  h.clock.advance(60 * 60_000 + 1)
  assert.equal((await browser(h).send('POST', '/v1/auth/password-reset', { email: 'flooded@example.com' })).statusCode, 202)
  for (let i = 0; i < 500 && (await rowsFor(h, 'flooded@example.com')).length < 4; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual((await rowsFor(h, 'flooded@example.com')).map((r) => r.outcome), ['queued', 'queued', 'rate_limited', 'queued'])
})

test('bad input to the reset routes is a clear 400, never a 500', async (t) => {
  const { h } = await mailApp('sqlite', null)
  t.after(() => h.close())
  for (const [url, payload] of [
    ['/v1/auth/password-reset', { email: 'not-an-address' }],
    ['/v1/auth/password-reset', { email: 'a@b.co', extra: 1 }],
    ['/v1/auth/password-reset', { email: 'x'.repeat(300) + '@example.com' }],
    ['/v1/auth/password-reset/confirm', { token: "' or 1=1 --", password: NEW_PASSWORD }],
    ['/v1/auth/password-reset/confirm', { token: 'A'.repeat(43), password: 'x'.repeat(5000) }],
  ] as const) {
    const r = await browser(h).send('POST', url, payload)
    assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(payload).slice(0, 60)}: ${r.body}`)
    assert.ok(r.json().error.code)
  }
})

test('a mail the send path refuses is recorded as refused; the caller is not failed', async (t) => {
  const { h, org } = await mailApp('sqlite', null)
  t.after(() => h.close())
  await h.app.systemMail.send({ to: 'two@@at-signs.example', kind: 'invitation', orgId: org.orgId, subject: 'x', text: 'y' })
  const rows = await h.db.selectFrom('system_mail').select(['outcome', 'org_id', 'message_id']).execute()
  assert.deepEqual(rows, [{ outcome: 'refused', org_id: org.orgId, message_id: null }])
  assert.equal((await h.db.selectFrom('messages').select('id').execute()).length, 0)
})

test('system mail is audited as system_mail.queued on the sending organization', async (t) => {
  const { h, org } = await mailApp('sqlite', null)
  t.after(() => h.close())
  const r = await h.http.inject({ method: 'POST', url: '/v1/invitations', headers: bearer(org.liveKey), payload: { email: 'audited@example.com', role: 'developer' } })
  assert.equal(r.statusCode, 201, r.body)
  await h.app.audit.writer.checkpoint()
  const events = await h.db.selectFrom('audit_events').select(['action', 'org_id', 'target_id']).where('action', '=', 'system_mail.queued').execute()
  const msg = await h.db.selectFrom('messages').select('id').executeTakeFirstOrThrow()
  assert.deepEqual(events.map((e) => [e.org_id, e.target_id]), [[org.orgId, msg.id]])
})

test('two confirmations racing with one token: exactly one sets the password', async (t) => {
  const outbox = createMemoryOutbox()
  const h = await buildTestApp({ env: { SEALPOST_PUBLIC_URL: ORIGIN }, deps: { mailSender: outbox } })
  t.after(() => h.close())
  const org = await h.seedOrg()
  const user = await addUser(h, org.orgId, 'developer', 'race@example.com')
  assert.equal((await browser(h).send('POST', '/v1/auth/password-reset', { email: user.email })).statusCode, 202)
  for (let i = 0; i < 250 && !outbox.last(user.email, 'password_reset'); i++) await new Promise((r) => setTimeout(r, 20))
  const token = tokenFromMail(outbox.last(user.email, 'password_reset'))!
  assert.ok(token)
  const [a, b] = await Promise.all(['first racing passphrase 123', 'second racing passphrase 456'].map((password) =>
    browser(h).send('POST', '/v1/auth/password-reset/confirm', { token, password })))
  assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 404])
})
