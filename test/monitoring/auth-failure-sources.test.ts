/**
 * Issue 13, finding 10: anyone who knew a key's public lookup id could raise
 * auth-failure alerts in its organization. Failures are counted per source first.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AUTH_FAILURE_DEFAULTS, createAuthFailureDetector } from '../../src/monitoring/detectors/auth-failures.ts'
import type { RequestObservation, Signal } from '../../src/monitoring/detectors/signal.ts'

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)
const LOOKUP = 'VictimLookup'
const failure = (ip: string, at = T0): RequestObservation => ({
  at, ip, method: 'GET', route: '/v1/keys', status: 401, orgId: null, keyId: null, authFailure: 'invalid_key', credentialHint: LOOKUP,
})
const keySignals = (signals: Signal[]) => signals.filter((s) => s.subject.type === 'key')

test('one IP hammering a key raises only the IP-level alert (no organization), never the key alert', () => {
  const d = createAuthFailureDetector()
  const signals = Array.from({ length: 500 }, (_, i) => d.observe(failure('198.51.100.23', T0 + i))).flat()
  assert.deepEqual(keySignals(signals), [])
  const ipAlerts = signals.filter((s) => s.subject.type === 'ip')
  assert.equal(ipAlerts.length, 1)
  assert.equal(ipAlerts[0].orgId, null)
  assert.equal(ipAlerts[0].subject.id, '198.51.100.23')
})

test('many addresses of one network (an IPv6 /48, an IPv4 /24) count as one source', () => {
  const d = createAuthFailureDetector()
  const v6 = Array.from({ length: 200 }, (_, i) => d.observe(failure(`2001:db8:1:${(i % 50).toString(16)}::${i.toString(16)}`, T0 + i))).flat()
  const v4 = Array.from({ length: 200 }, (_, i) => d.observe(failure(`203.0.113.${i % 250}`, T0 + i))).flat()
  assert.deepEqual(keySignals([...v6, ...v4]), [], 'two networks are fewer than minSources')
})

test('a distributed attack (failures from several networks) still alerts the key\'s organization, once per window', () => {
  const { perKey, perSourceCap, minSources } = AUTH_FAILURE_DEFAULTS
  const networks = Math.ceil(perKey / perSourceCap)
  assert.ok(networks >= minSources)
  const d = createAuthFailureDetector()
  const fired: Signal[] = []
  for (let n = 0; n < networks + 3; n++) {
    for (let i = 0; i < perSourceCap * 5; i++) fired.push(...keySignals(d.observe(failure(`10.${n}.0.${i + 1}`, T0 + n * 100 + i))))
  }
  assert.equal(fired.length, 1)
  assert.deepEqual(fired[0].subject, { type: 'key', id: LOOKUP })
  assert.equal(fired[0].evidence.failures, perKey)
  assert.equal(fired[0].evidence.sources, networks)
})

test('failures from fewer than minSources networks never alert the organization, however many', () => {
  const d = createAuthFailureDetector({ ...AUTH_FAILURE_DEFAULTS, perSourceCap: 100 })
  const fired: Signal[] = []
  for (let n = 0; n < AUTH_FAILURE_DEFAULTS.minSources - 1; n++) {
    for (let i = 0; i < 50; i++) fired.push(...keySignals(d.observe(failure(`10.${n}.0.1`, T0 + n * 100 + i))))
  }
  assert.equal(fired.length, 0)
  fired.push(...keySignals(d.observe(failure('10.99.0.1', T0 + 999))))
  assert.equal(fired.length, 1, 'the next network makes it distributed')
})
