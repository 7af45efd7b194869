import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assertContained, containedNew, intersectConditions } from '../../src/access/containment.ts'
import { ipAllowed, timeAllowed } from '../../src/access/conditions.ts'
import type { AccessConditions } from '../../src/core/principal.ts'

const office = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timeZone: 'UTC' }
const mornings = { days: [1, 2], start: '09:00', end: '12:00', timeZone: 'UTC' }
const p = (conditions?: AccessConditions) => ({ scopes: ['keys:manage', 'messages:read'], environment: 'live' as const, conditions })

const refusal = (fn: () => unknown) => {
  try { fn() } catch (e: any) { return { code: e.code, status: e.status, details: e.details } }
  return null
}

test('containment: scopes, environment (both directions) and each condition kind', () => {
  const target = { scopes: ['messages:read'], environment: 'live' as const, conditions: null }
  assert.equal(refusal(() => assertContained(p(), target, 'rotate', 'key')), null)
  assert.deepEqual(refusal(() => assertContained(p(), { ...target, scopes: ['messages:send'] }, 'rotate', 'key')), { code: 'insufficient_scope', status: 403, details: { scopes: ['messages:send'] } })
  assert.deepEqual(refusal(() => assertContained(p(), { ...target, environment: 'test' }, 'delete', 'key')), { code: 'forbidden', status: 403, details: { environment: 'test' } })
  assert.deepEqual(refusal(() => assertContained({ ...p(), environment: 'test' }, target, 'create', 'key')), { code: 'forbidden', status: 403, details: { environment: 'live' } })
  // A restricted principal cannot manage an unrestricted credential, nor one with a wider window or environment set.
  assert.deepEqual(refusal(() => assertContained(p({ ipRanges: ['10.0.0.0/8'] }), target, 'revoke', 'key'))?.details, { condition: 'ipRanges' })
  assert.deepEqual(refusal(() => assertContained(p({ timeWindows: [mornings] }), { ...target, conditions: { timeWindows: [office] } }, 'reinstate', 'key'))?.details, { condition: 'timeWindows' })
  assert.deepEqual(refusal(() => assertContained(p({ environments: ['live'] }), { ...target, conditions: { environments: ['live', 'test'] } }, 'rotate', 'key'))?.details, { condition: 'environments' })
  assert.equal(refusal(() => assertContained(p({ timeWindows: [office] }), { ...target, conditions: { timeWindows: [mornings] } }, 'rotate', 'key')), null)
})

test('containment: a new credential inherits every condition it leaves out; asking for wider is 403', () => {
  const creator = p({ ipRanges: ['192.0.2.0/24'], timeWindows: [office] })
  const made = containedNew(creator, { scopes: ['messages:read'], conditions: null }, 'OAuth client')
  assert.deepEqual(made, { scopes: ['messages:read'], environment: 'live', conditions: { ipRanges: ['192.0.2.0/24'], timeWindows: [office] } })
  const narrower = containedNew(creator, { scopes: ['messages:read'], conditions: { ipRanges: ['192.0.2.8/29'] } }, 'OAuth client')
  assert.deepEqual(narrower.conditions, { ipRanges: ['192.0.2.8/29'], timeWindows: [office] })
  assert.deepEqual(refusal(() => containedNew(creator, { scopes: ['messages:read'], conditions: { ipRanges: ['192.0.0.0/16'] } }, 'OAuth client')), { code: 'forbidden', status: 403, details: { condition: 'ipRanges' } })
  assert.equal(refusal(() => containedNew(creator, { scopes: ['messages:read'], environment: 'test', conditions: null }, 'OAuth client'))?.code, 'forbidden')
})

test('intersection of a role\'s and a client\'s conditions: both must hold, nothing in common refuses everything', () => {
  assert.equal(intersectConditions(undefined, null), undefined)
  assert.deepEqual(intersectConditions({ ipRanges: ['10.0.0.0/8'] }, undefined), { ipRanges: ['10.0.0.0/8'] })
  const both = intersectConditions({ ipRanges: ['10.0.0.0/8', '192.0.2.0/24'] }, { ipRanges: ['10.1.0.0/16'], environments: ['live'] })!
  assert.deepEqual(both, { ipRanges: ['10.1.0.0/16'], environments: ['live'] })
  assert.equal(ipAllowed(both, '10.1.2.3'), true)
  assert.equal(ipAllowed(both, '10.2.0.1'), false)
  assert.equal(ipAllowed(both, '192.0.2.1'), false)
  const disjoint = intersectConditions({ ipRanges: ['10.0.0.0/8'] }, { ipRanges: ['192.0.2.0/24'] })!
  assert.deepEqual(disjoint.ipRanges, [])
  assert.equal(ipAllowed(disjoint, '10.0.0.1'), false)
  assert.equal(ipAllowed(disjoint, '192.0.2.1'), false)
  const hours = intersectConditions({ timeWindows: [office] }, { timeWindows: [mornings] })!
  assert.deepEqual(hours.timeWindows, [mornings])
  assert.equal(timeAllowed(hours, new Date('2026-12-01T10:00:00Z')), true, 'Tuesday morning')
  assert.equal(timeAllowed(hours, new Date('2026-12-01T14:00:00Z')), false, 'Tuesday afternoon: inside office, outside mornings')
  assert.deepEqual(intersectConditions({ environments: ['live'] }, { environments: ['test'] })!.environments, [])
})
