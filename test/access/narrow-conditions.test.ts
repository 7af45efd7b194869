import { test } from 'node:test'
import assert from 'node:assert/strict'
import { conditionsWithin, narrowConditions, normalizeConditions } from '../../src/access/narrow-conditions.ts'
import { AppError } from '../../src/core/errors.ts'

const office = { days: [1, 2, 3, 4, 5], start: '08:00', end: '20:00', timeZone: 'Europe/Berlin' }

test('normalizeConditions canonicalizes ranges and refuses bad input with the field path', () => {
  assert.deepEqual(normalizeConditions({ ipRanges: ['10.1.2.3/8', '10.0.0.0/8'] }), { ipRanges: ['10.0.0.0/8'] })
  assert.equal(normalizeConditions({}), null)
  assert.throws(() => normalizeConditions({ ipRanges: ['10.0.0.0/8', 'nope'] }), (e: AppError) =>
    e.code === 'invalid_request' && JSON.stringify(e.details).includes('ipRanges/1'))
  assert.throws(() => normalizeConditions({ timeWindows: [{ ...office, timeZone: 'Nowhere/Else' }] }), (e: AppError) =>
    e.code === 'invalid_request' && JSON.stringify(e.details).includes('timeWindows/0'))
})

test('a key inherits every condition of its creator it does not set itself', () => {
  const creator = { ipRanges: ['10.0.0.0/8'], timeWindows: [office], environments: ['test' as const] }
  assert.deepEqual(narrowConditions(creator, null), creator)
  assert.deepEqual(narrowConditions(creator, { ipRanges: ['10.1.0.0/16'] }), { ...creator, ipRanges: ['10.1.0.0/16'] })
})

test('a key cannot be wider than its creator, and the refusal names only the kind', () => {
  const refusedWith = (kind: string) => (e: AppError) => e.code === 'forbidden' && (e.details as any).condition === kind && !e.message.includes('10.')
  assert.throws(() => narrowConditions({ ipRanges: ['10.0.0.0/8'] }, { ipRanges: ['0.0.0.0/0'] }), refusedWith('ipRanges'))
  assert.throws(() => narrowConditions({ timeWindows: [office] }, { timeWindows: [{ ...office, days: [0, 6] }] }), refusedWith('timeWindows'))
  assert.throws(() => narrowConditions({ environments: ['test'] }, { environments: ['live'] }), refusedWith('environments'))
})

test('an unconditioned creator may set any conditions', () => {
  assert.deepEqual(narrowConditions(undefined, { ipRanges: ['::/0'] }), { ipRanges: ['::/0'] })
})

test('conditionsWithin: an existing key is manageable only if it is at least as narrow as the caller', () => {
  assert.equal(conditionsWithin(null, undefined), true)
  assert.equal(conditionsWithin({ ipRanges: ['10.1.0.0/16'] }, { ipRanges: ['10.0.0.0/8'] }), true)
  assert.equal(conditionsWithin(null, { ipRanges: ['10.0.0.0/8'] }), false, 'an unrestricted key is wider than a restricted caller')
  assert.equal(conditionsWithin({ ipRanges: ['10.0.0.0/8'] }, { ipRanges: ['10.1.0.0/16'] }), false)
  assert.equal(conditionsWithin({ ipRanges: ['10.0.0.0/8'] }, null), true)
})
