import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newRateState, record, isSpike, advance } from '../../src/monitoring/detectors/rate-tracker.ts'
import { createOffHoursDetector } from '../../src/monitoring/detectors/off-hours.ts'
import { createDeliveryRateDetector } from '../../src/monitoring/detectors/delivery-rates.ts'
import { createAuthFailureDetector } from '../../src/monitoring/detectors/auth-failures.ts'
import { createIpRangeDetector } from '../../src/monitoring/detectors/ip-ranges.ts'
import { createVolumeDetector } from '../../src/monitoring/detectors/volume.ts'
import { rangeOf } from '../../src/monitoring/detectors/ip-range.ts'
import type { RequestObservation } from '../../src/monitoring/detectors/signal.ts'

const MIN = 60_000
const HOUR = 60 * MIN
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0)
const obs = (o: Partial<RequestObservation>): RequestObservation => ({
  at: T0, ip: '203.0.113.1', method: 'GET', route: '/v1/domains', status: 200, orgId: 'org_a', keyId: 'key_a', authFailure: null, credentialHint: null, ...o,
})

test('EWMA baseline learns recent windows, decays over idle ones, and a spike fires once per window', () => {
  const o = { windowMs: MIN, alpha: 0.5 }
  const s = newRateState()
  for (let m = 0; m < 10; m++) record(s, T0 + m * MIN, o, 4)
  advance(s, T0 + 10 * MIN, o)
  assert.ok(Math.abs(s.baseline - 4) < 0.01)
  advance(s, T0 + 14 * MIN, o) // three idle minutes
  assert.ok(s.baseline < 1)
  const t = { minCount: 5, factor: 3, minWindows: 5 }
  record(s, T0 + 14 * MIN, o, 4)
  assert.equal(isSpike(s, t), false)
  record(s, T0 + 14 * MIN, o, 2)
  assert.equal(isSpike(s, t), true)
  record(s, T0 + 14 * MIN, o, 10)
  assert.equal(isSpike(s, t), false, 'once per window')
})

test('IP ranges are /24 and /48; mapped IPv4 counts as IPv4', () => {
  assert.equal(rangeOf('198.51.100.77'), '198.51.100.0/24')
  assert.equal(rangeOf('::ffff:198.51.100.9'), '198.51.100.0/24')
  assert.equal(rangeOf('2001:db8:abcd:12::1'), '2001:db8:abcd::/48')
  assert.equal(rangeOf('not an ip'), 'unknown')
})

test('auth failures: missing credentials do not count; a burst against one key is attributed by lookup id', () => {
  const d = createAuthFailureDetector({ windowMs: MIN, perIp: 100, perKey: 5, perSourceCap: 3, minSources: 3, factor: 5 })
  for (let i = 0; i < 50; i++) assert.deepEqual(d.observe(obs({ status: 401, authFailure: 'missing_credentials', keyId: null, orgId: null })), [])
  const fired = []
  for (let i = 0; i < 6; i++) fired.push(...d.observe(obs({ status: 401, authFailure: 'unknown_key', keyId: null, orgId: null, ip: `192.0.${i}.1`, credentialHint: 'AbCdEfGhIjKl' })))
  assert.equal(fired.length, 1)
  assert.deepEqual(fired[0].subject, { type: 'key', id: 'AbCdEfGhIjKl' })
  assert.equal(fired[0].evidence.failures, 5)
})

test('a new IP range is noticed only once the key has a history', () => {
  const d = createIpRangeDetector({ minRequests: 10, minAgeMs: 10 * MIN, maxRanges: 8 })
  assert.deepEqual(d.observe(obs({ ip: '10.0.0.1' })), [])
  assert.deepEqual(d.observe(obs({ ip: '10.9.0.1', at: T0 + MIN })), [], 'still learning')
  for (let i = 0; i < 20; i++) d.observe(obs({ at: T0 + i * MIN, ip: '10.0.0.2' }))
  const s = d.observe(obs({ at: T0 + 30 * MIN, ip: '172.16.5.5' }))
  assert.equal(s.length, 1)
  assert.equal(s[0].rule, 'new_ip_range')
  assert.deepEqual(d.observe(obs({ at: T0 + 31 * MIN, ip: '172.16.5.6' })), [], 'same range again')
  assert.deepEqual(d.newRangesSince('key_a', T0 + 20 * MIN), ['172.16.5.0/24'])
})

test('send volume counts accepted sends only, and an organization spike is its own alert', () => {
  const ranges = createIpRangeDetector()
  const d = createVolumeDetector(ranges, { windowMs: MIN, alpha: 0.1, minWindows: 5, factor: 5, minPerKey: 1000, minPerOrg: 20, newRangeWithinMs: HOUR })
  const send = (at: number, status = 202) => d.observe(obs({ at, method: 'POST', route: '/v1/messages', status }))
  for (let m = 0; m < 10; m++) send(T0 + m * MIN)
  const rejected = [] as ReturnType<typeof send>
  for (let i = 0; i < 30; i++) rejected.push(...send(T0 + 10 * MIN, 422).filter((s) => s.rule === 'send_volume_spike'))
  assert.deepEqual(rejected, [], 'refused sends are not sends')
  const fired = [] as ReturnType<typeof send>
  for (let i = 0; i < 30; i++) fired.push(...send(T0 + 11 * MIN))
  assert.ok(fired.some((s) => s.rule === 'send_volume_spike' && s.subject.type === 'org'))
})

test('off-hours: a key used only in office hours is noticed at 03:00 UTC, once per hour', () => {
  const d = createOffHoursDetector({ minRequests: 100, minDays: 3, maxShare: 0.01 })
  for (let day = 0; day < 5; day++) {
    for (let h = 9; h < 17; h++) for (let i = 0; i < 5; i++) assert.deepEqual(d.observe(obs({ at: T0 + day * 24 * HOUR + h * HOUR + i * MIN })), [])
  }
  const night = T0 + 5 * 24 * HOUR + 3 * HOUR
  const s = d.observe(obs({ at: night }))
  assert.equal(s.length, 1)
  assert.equal(s[0].rule, 'off_hours_activity')
  assert.equal(s[0].evidence.hourUtc, 3)
  assert.deepEqual(d.observe(obs({ at: night + MIN })), [])
  assert.deepEqual(d.observe(obs({ at: T0 + 5 * 24 * HOUR + 10 * HOUR })), [], 'a usual hour')
})

test('bounce and complaint rates: judged against both a floor and the learned rate', () => {
  const d = createDeliveryRateDetector({ windowMs: HOUR, alpha: 0.2, minVolume: 50, bounceFloor: 0.05, complaintFloor: 0.003, factor: 3 })
  // Hours at a steady 2% bounce rate raise nothing.
  for (let h = 0; h < 5; h++) {
    for (let i = 0; i < 100; i++) assert.deepEqual(d.record('org_a', i < 2 ? 'bounced' : 'delivered', T0 + h * HOUR + i), [])
  }
  const fired = []
  for (let i = 0; i < 100; i++) fired.push(...d.record('org_a', i % 4 === 0 ? 'bounced' : 'delivered', T0 + 6 * HOUR + i))
  for (let i = 0; i < 3; i++) fired.push(...d.record('org_a', 'complained', T0 + 6 * HOUR + 200 + i))
  assert.deepEqual(fired.map((s) => s.rule).sort(), ['bounce_rate_spike', 'complaint_rate_spike'])
  assert.ok(Number(fired.find((s) => s.rule === 'bounce_rate_spike')!.evidence.baselineRate) <= 0.03)
})
