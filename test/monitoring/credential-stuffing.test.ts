import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { crc32 } from 'node:zlib'
import { HOUR } from '../../src/core/clock.ts'
import { parseKey } from '../../src/keys/format.ts'
import { AUTH_FAILURE_DEFAULTS } from '../../src/monitoring/detectors/auth-failures.ts'

const ATTACKER = '198.51.100.23'
const badKey = () => `sp_live_${randomBytes(40).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12)}_${randomBytes(48).toString('base64url').replace(/[-_]/g, 'y').slice(0, 49)}`

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const base62 = (n: bigint, width: number) => { let out = ''; while (n > 0n) { out = B62[Number(n % 62n)] + out; n /= 62n } return out.padStart(width, '0') }

/** A well-formed key (valid checksum) carrying the victim's public lookup id and a made-up secret: what an outsider can build. */
function forgedKey(victimKey: string): string {
  const lookup = parseKey(victimKey)!.lookupId
  const body = `sp_live_${lookup}_${base62(BigInt('0x' + randomBytes(32).toString('hex')), 43)}`
  const key = body + base62(BigInt(crc32(body) >>> 0), 6)
  assert.equal(parseKey(key)?.lookupId, lookup)
  return key
}

for (const { name, skip } of await testDialects()) {
  test(`${name}: one IP hammering a victim's lookup id is blocked, and raises nothing in the victim's organization`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const victim = await h.seedOrg('Victim')
    const statuses: string[] = []
    for (let i = 0; i < 100; i++) {
      const r = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: ATTACKER, headers: bearer(forgedKey(victim.liveKey)) })
      statuses.push(r.statusCode === 401 ? '401' : r.json().error.code)
    }
    await h.app.monitoring.monitor.settled()
    // The outsider is stopped...
    assert.equal(statuses.at(-1), 'ip_blocked')
    assert.ok(statuses.slice(0, AUTH_FAILURE_DEFAULTS.perIp - 1).every((s) => s === '401'))
    const system = await h.app.monitoring.alerts.listSystem()
    assert.ok(system.some((a) => a.rule === 'auth_failure_burst' && a.subject.id === ATTACKER && a.actions.some((x) => x.action === 'block_ip' && x.ok)))
    // ... and the victim's organization has no alert, no notification, no audit event it did not cause.
    const rows = await h.db.selectFrom('monitoring_alerts').select(['rule', 'subject_id']).where('org_id', '=', victim.orgId).execute()
    assert.deepEqual(rows, [])
    await h.app.audit.writer.flush()
    const events = await h.db.selectFrom('audit_events').select('action').where('org_id', '=', victim.orgId).where('action', 'like', 'alert.%').execute()
    assert.deepEqual(events, [])
    // The victim's key still works from its own address.
    assert.equal((await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: '203.0.113.50', headers: bearer(victim.liveKey) })).statusCode, 200)
  })

  test(`${name}: failures against one key from several networks alert its organization`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const victim = await h.seedOrg('Victim')
    const { perKey, perSourceCap } = AUTH_FAILURE_DEFAULTS
    for (let n = 0; n < Math.ceil(perKey / perSourceCap); n++) {
      for (let i = 0; i < perSourceCap; i++) {
        const r = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: `198.18.${n}.${i + 1}`, headers: bearer(forgedKey(victim.liveKey)) })
        assert.equal(r.statusCode, 401)
      }
    }
    await h.app.monitoring.monitor.settled()
    const rows = await h.db.selectFrom('monitoring_alerts').select(['rule', 'subject_type', 'subject_id']).where('org_id', '=', victim.orgId).execute()
    assert.deepEqual(rows, [{ rule: 'auth_failure_burst', subject_type: 'key', subject_id: victim.liveKeyId }])
  })

  test(`${name}: credential stuffing from one IP is alerted and blocked`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg('Acme')

    const statuses: { status: number; code?: string }[] = []
    for (let i = 0; i < 200; i++) {
      const r = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: ATTACKER, headers: bearer(badKey()) })
      statuses.push({ status: r.statusCode, code: r.json().error?.code })
    }
    await h.app.monitoring.monitor.settled()

    const firstBlocked = statuses.findIndex((s) => s.code === 'ip_blocked')
    assert.ok(firstBlocked > 0 && firstBlocked < 199, `blocked at request ${firstBlocked + 1}`)
    assert.ok(statuses.slice(0, 19).every((s) => s.status === 401))
    assert.ok(statuses.slice(firstBlocked).every((s) => s.status === 403 && s.code === 'ip_blocked'))

    const alerts = await h.app.monitoring.alerts.listSystem()
    const burst = alerts.find((a) => a.rule === 'auth_failure_burst' && a.subject.id === ATTACKER)
    assert.ok(burst, 'an alert was raised')
    assert.equal(burst!.severity, 'high')
    assert.ok(Number(burst!.evidence.failures) >= 20)
    assert.ok(burst!.actions.some((a) => a.action === 'block_ip' && a.ok))

    // The block is global: even a valid key is refused from that address, before authentication.
    const valid = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: ATTACKER, headers: bearer(org.liveKey) })
    assert.equal(valid.statusCode, 403)
    assert.equal(valid.json().error.code, 'ip_blocked')
    assert.ok(Number(valid.headers['retry-after']) > 0)
    // Everyone else is unaffected.
    const other = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: '203.0.113.50', headers: bearer(org.liveKey) })
    assert.equal(other.statusCode, 200)

    // The block and the alert are in the database and the audit log.
    const rows = await h.db.selectFrom('monitoring_ip_blocks').selectAll().where('ip', '=', ATTACKER).execute()
    assert.equal(rows.length, 1)
    assert.equal(rows[0].org_id, null)
    await h.app.audit.writer.flush()
    const audited = await h.db.selectFrom('audit_events').select(['action', 'actor_type']).where('chain_id', '=', '_system').where('action', 'in', ['alert.raised', 'monitoring.ip_blocked']).execute()
    assert.deepEqual(audited.map((e) => e.action).sort(), ['alert.raised', 'monitoring.ip_blocked'])
    assert.ok(audited.every((e) => e.actor_type === 'system'))

    // A restarted process (fresh memory) still enforces it, and it ends when it expires.
    await h.app.monitoring.enforcement.refresh()
    assert.equal(h.app.monitoring.enforcement.isBlocked(ATTACKER, null), true)
    h.clock.advance(HOUR + 1000)
    const later = await h.http.inject({ method: 'GET', url: '/v1/keys', remoteAddress: ATTACKER, headers: bearer(org.liveKey) })
    assert.equal(later.statusCode, 200)
  })
}
