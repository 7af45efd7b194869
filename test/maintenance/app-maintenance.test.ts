import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { Writable } from 'node:stream'
import { bearer, buildTestApp } from '../helpers/harness.ts'
import { addUser, browser, ORIGIN, signIn } from '../users/helpers.ts'
import { createMaintenance, type MaintenanceLog } from '../../src/app-maintenance.ts'

const HOUR = 60 * 60_000
const DAY = 24 * HOUR

function recordingLog() {
  const errors: { obj: any; msg: string }[] = []
  const log: MaintenanceLog = { info() {}, warn() {}, error: (obj, msg) => { errors.push({ obj, msg }) } }
  return { log, errors }
}

test('a failing task is logged and the others still run', async () => {
  const ran: string[] = []
  const { log, errors } = recordingLog()
  const m = createMaintenance({
    everyMs: 0, log,
    tasks: [
      { name: 'first', run: async () => { ran.push('first') } },
      { name: 'broken', run: async () => { throw new Error('database away') } },
      { name: 'last', run: async () => { ran.push('last') } },
    ],
  })
  await m.tick()
  assert.deepEqual(ran, ['first', 'last'])
  assert.equal(errors.length, 1)
  assert.equal(errors[0].obj.task, 'broken')
  assert.equal(errors[0].obj.err.message, 'database away')
})

test('runs never overlap: a tick during a run joins it; the timer skips while one is in progress', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] })
  let runs = 0
  let release!: () => void
  const m = createMaintenance({
    everyMs: 1000, log: recordingLog().log,
    tasks: [{ name: 'slow', run: () => { runs++; return new Promise<void>((r) => { release = r }) } }],
  })
  m.start()
  t.mock.timers.tick(1000)
  assert.equal(runs, 1)
  const joined = m.tick()
  t.mock.timers.tick(1000)
  t.mock.timers.tick(1000)
  assert.equal(runs, 1, 'no second run while the first is in progress')
  release()
  await joined
  t.mock.timers.tick(1000)
  assert.equal(runs, 2, 'the next interval after the run ended starts a new one')
  const stopping = m.stop()
  release()
  await stopping
  t.mock.timers.tick(5000)
  assert.equal(runs, 2, 'stopped: no more runs')
})

for (const { name, skip } of await testDialects()) {
  test(`${name}: one maintenance tick drops expired idempotency keys, stale sessions and counters, ended pauses; keeps fresh ones`, { skip }, async (t) => {
    const logLines: string[] = []
    const logStream = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done() } })
    const h = await buildTestApp({ dialect: name, env: { SEALPOST_PUBLIC_URL: ORIGIN }, logStream })
    t.after(() => h.close())
    const org = await h.seedOrg()
    await h.app.audit.retention.set(org.orgId, { days: 30 }, null)
    const oldUser = await addUser(h, org.orgId, 'developer')
    const newUser = await addUser(h, org.orgId, 'developer')

    // 31 days ago: a session and a failed sign-in (a brute-force counter).
    await signIn(h, oldUser.email)
    await browser(h, '198.51.100.9').send('POST', '/v1/auth/login', { email: oldUser.email, password: 'not the password at all' })
    assert.equal((await h.http.inject({ method: 'GET', url: '/v1/keys', headers: bearer(org.liveKey) })).statusCode, 200)
    await h.app.audit.writer.flush()
    const t0 = h.clock.now().getTime()
    const oldEvents = () => h.db.selectFrom('audit_events').select('id').where('org_id', '=', org.orgId).where('occurred_at', '<=', t0).where('action', '<>', 'anchor').execute()
    assert.ok((await oldEvents()).length > 0)
    const idem = (key: string, createdAt: number) => ({
      org_id: org.orgId, environment: 'live' as const, key, request_hash: 'h', status_code: 202, response: '{}', created_at: createdAt, expires_at: createdAt + DAY,
    })
    h.clock.advance(31 * DAY)
    const now = h.clock.now().getTime()
    const fresh = await signIn(h, newUser.email)
    await h.db.insertInto('idempotency_keys').values([idem('old', now - 25 * HOUR), idem('fresh', now - HOUR)]).execute()
    await h.db.insertInto('delivery_domain_pauses').values([
      { domain: 'ended.example', paused_until: now - 1, reason: '421' },
      { domain: 'paused.example', paused_until: now + HOUR, reason: '451' },
    ]).execute()

    const sessionsOf = async (userId: string) => (await h.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length
    assert.equal(await sessionsOf(oldUser.id), 1)
    assert.ok((await h.db.selectFrom('auth_throttle').select('key').where('last_failure_at', '<=', t0).execute()).length > 0)

    await h.app.maintenance.tick()
    assert.deepEqual(logLines.filter((l) => l.includes('maintenance:')), [], 'no task failed')

    assert.equal(await sessionsOf(oldUser.id), 0, 'a session unseen for 31 days is gone')
    assert.equal(await sessionsOf(newUser.id), 1, 'a fresh session stays')
    assert.equal((await h.db.selectFrom('auth_throttle').select('key').where('last_failure_at', '<=', t0).execute()).length, 0)
    const keys = (await h.db.selectFrom('idempotency_keys').select('key').where('org_id', '=', org.orgId).execute()).map((r) => r.key)
    assert.deepEqual(keys, ['fresh'])
    const pauses = (await h.db.selectFrom('delivery_domain_pauses').select('domain').execute()).map((r) => r.domain)
    assert.deepEqual(pauses, ['paused.example'])
    assert.equal((await oldEvents()).length, 0, 'audit events past the org\'s 30-day retention are purged')
    // The fresh user's session still works after the sweep.
    assert.equal((await fresh.send('GET', '/v1/auth/session')).statusCode, 200)
  })
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: message retention follows the organization's retention setting`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    await h.seedDomain(org.orgId, 'acme.test')
    const send = async () => (await h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: { from: 'a@acme.test', to: ['b@example.com'], subject: 's', text: 't' } })).json().id as string
    const old = await send()
    h.clock.advance(91 * DAY)
    const fresh = await send()
    await h.app.maintenance.tick()
    const ids = (await h.db.selectFrom('messages').select('id').where('org_id', '=', org.orgId).execute()).map((r) => r.id)
    assert.deepEqual(ids, [fresh], 'the 91-day-old message is gone, the new one stays (default 90 days)')
    const events = await h.db.selectFrom('message_events').select('id').where('message_id', '=', old).execute()
    assert.equal(events.length, 0, 'its events went with it')
    assert.equal((await h.http.inject({ method: 'GET', url: `/v1/messages/${old}`, headers: bearer(org.liveKey) })).statusCode, 404)
  })
}
