/**
 * Finding 7 (issue 13): 30 concurrent sign-ins for one account from 30 IPs had all
 * 29 wrong passwords evaluated before the right one signed in (check-then-act). The
 * attempt is now reserved atomically before hashing: concurrency buys no extra guesses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isAppError, type AppError } from '../../src/core/errors.ts'
import { createAuthService, type AuthHooks } from '../../src/users/service.ts'
import { THROTTLE_RULES } from '../../src/users/throttle.ts'
import { testDialects } from '../helpers/dialects.ts'
import { addUser, browser, buildUsersApp, enrolTotp, PASSWORD, signIn, totpAt } from './helpers.ts'

const BURST = 30

/**
 * Counts secret checks and holds them until every attempt of the burst is either
 * refused or waiting here: all of them have then passed the throttle before any
 * check finishes, however the scheduler interleaves them (and a regression that
 * lets more through fails the count instead of hanging).
 */
function heldChecks() {
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  const seen: string[] = []
  let refused = 0
  const maybeOpen = () => { if (seen.length + refused >= BURST) release() }
  const hooks: AuthHooks = {
    async beforeSecretCheck(kind) {
      seen.push(kind)
      maybeOpen()
      await gate
    },
  }
  return { hooks, seen, refusedOne: () => { refused++; maybeOpen() } }
}

type Outcome = { status: number; retryAfter?: number; code?: string }

/** Runs the attempts at once and records each outcome. */
async function burst(attempts: (() => Promise<unknown>)[], held: ReturnType<typeof heldChecks>): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  await Promise.all(attempts.map(async (run, i) => {
    try {
      await run()
      outcomes[i] = { status: 200 }
    } catch (e) {
      if (!isAppError(e)) throw e
      outcomes[i] = { status: e.status, code: e.code, retryAfter: Number((e as AppError).headers['retry-after']) || undefined }
      if (e.status === 429) held.refusedOne()
    }
  }))
  return outcomes
}

const count = (o: Outcome[], status: number) => o.filter((x) => x.status === status).length

for (const { name, skip } of await testDialects()) {
  test(`${name}: the login throttle reserves each attempt before hashing`, { skip }, async (t) => {
    const h = await buildUsersApp(name)
    t.after(() => h.close())
    const org = await h.seedOrg()
    const free = THROTTLE_RULES.acct.free

    await t.test(`${BURST} concurrent sign-ins for one account from ${BURST} IPs (29 wrong, 1 right): only ${free} passwords are checked, the rest get 429 + Retry-After`, async () => {
      const victim = await addUser(h, org.orgId, 'developer')
      const held = heldChecks()
      const auth = createAuthService(h.app.users.deps, held.hooks)
      const right = BURST - 1
      const outcomes = await burst(Array.from({ length: BURST }, (_, i) => () =>
        auth.login({ email: victim.email, password: i === right ? PASSWORD : `wrong guess ${i}` }, { ip: `198.18.${i}.1` })), held)

      assert.equal(held.seen.length, free, 'passwords evaluated')
      assert.equal(count(outcomes, 429), BURST - free)
      assert.ok(outcomes.filter((o) => o.status === 429).every((o) => o.code === 'rate_limited' && o.retryAfter! >= 1))
      // Whichever `free` attempts won the reservations were checked; the right password signs in only if it was one of them.
      assert.equal(count(outcomes, 401) + count(outcomes, 200), free)
      assert.equal(count(outcomes, 200), outcomes[right].status === 200 ? 1 : 0)
      if (outcomes[right].status !== 200) {
        // ... and after the burst it is still refused without a check: the back-off holds.
        const before = held.seen.length
        await assert.rejects(auth.login({ email: victim.email, password: PASSWORD }, { ip: '198.18.200.1' }), (e: AppError) => e.status === 429)
        assert.equal(held.seen.length, before)
      }
    })

    await t.test(`${BURST} concurrent sign-ins from one IP for ${BURST} accounts: only ${THROTTLE_RULES.ip.free} passwords are checked`, async () => {
      const held = heldChecks()
      const auth = createAuthService(h.app.users.deps, held.hooks)
      const ipFree = THROTTLE_RULES.ip.free
      const outcomes = await burst(Array.from({ length: BURST }, (_, i) => () =>
        auth.login({ email: `someone${i}@example.com`, password: `wrong guess ${i}` }, { ip: '198.51.100.66' })), held)
      assert.equal(held.seen.length, ipFree)
      assert.equal(count(outcomes, 401), ipFree)
      assert.equal(count(outcomes, 429), BURST - ipFree)
    })

    await t.test(`${BURST} concurrent second-factor codes for one user: only ${THROTTLE_RULES.mfa.free} are checked`, async () => {
      const admin = await addUser(h, org.orgId, 'admin')
      const b = await signIn(h, admin.email, { ip: '203.0.113.40' })
      const { secret } = await enrolTotp(h, b)
      const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totpAt(h, secret, d))))
      const wrongCodes = Array.from({ length: BURST * 2 }, (_, i) => String(100000 + i)).filter((c) => !valid.has(c)).slice(0, BURST)
      const pending = browser(h, '203.0.113.41')
      assert.equal((await pending.send('POST', '/v1/auth/login', { email: admin.email, password: PASSWORD })).json().next, 'mfa')
      const ctx = (await h.app.users.gate.load(pending.token!))!
      const held = heldChecks()
      const auth = createAuthService(h.app.users.deps, held.hooks)
      const mfaFree = THROTTLE_RULES.mfa.free
      const outcomes = await burst(Array.from({ length: BURST }, (_, i) => () =>
        auth.verifySecondFactor(ctx, { totp: wrongCodes[i] }, { ip: `198.18.${i}.9` })), held)
      assert.equal(held.seen.filter((k) => k === 'mfa').length, mfaFree)
      assert.equal(count(outcomes, 401), mfaFree)
      assert.equal(count(outcomes, 429), BURST - mfaFree)
    })

    await t.test('over HTTP: the burst answers 401 for the checked attempts and 429 with Retry-After for the rest', async () => {
      const victim = await addUser(h, org.orgId, 'analyst')
      const rs = await Promise.all(Array.from({ length: BURST }, (_, i) =>
        browser(h, `198.19.${i}.1`).send('POST', '/v1/auth/login', { email: victim.email, password: `wrong guess ${i}` })))
      assert.equal(rs.filter((r) => r.statusCode === 401).length, free)
      const refused = rs.filter((r) => r.statusCode === 429)
      assert.equal(refused.length, BURST - free)
      assert.ok(refused.every((r) => Number(r.headers['retry-after']) >= 1 && r.json().error.code === 'rate_limited'))
      await h.app.audit.writer.flush()
      const reasons = (await h.db.selectFrom('audit_events').select('details').where('action', '=', 'user.login_failed').where('actor_id', '=', victim.id).execute())
        .map((r) => JSON.parse(String(r.details)).reason)
      assert.deepEqual(reasons, Array(free).fill('wrong_password'), 'only the checked attempts are attributed to the account')
    })

    await t.test('a success hands the IP its reservation back: many good sign-ins from one address are never throttled', async () => {
      const user = await addUser(h, org.orgId, 'support')
      for (let i = 0; i < THROTTLE_RULES.ip.free * 2; i++) {
        const r = await browser(h, '192.0.2.150').send('POST', '/v1/auth/login', { email: user.email, password: PASSWORD })
        assert.equal(r.statusCode, 200, `sign-in ${i + 1}`)
      }
      assert.equal((await h.db.selectFrom('auth_throttle').selectAll().where('key', '=', 'ip:192.0.2.150').execute()).length, 0)
    })
  })
}
