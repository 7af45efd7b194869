import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inWindow, localTime, windowProblem, windowWithin } from '../../src/access/time-windows.ts'

const weekdaysParis = { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', timeZone: 'Europe/Paris' }

test('a window is evaluated in its own time zone, across DST', () => {
  // Monday 2026-03-02 08:30 UTC = 09:30 in Paris (UTC+1, winter)
  assert.equal(inWindow(new Date('2026-03-02T08:30:00Z'), weekdaysParis), true)
  assert.equal(inWindow(new Date('2026-03-02T07:59:00Z'), weekdaysParis), false)
  // Monday 2026-07-06 07:30 UTC = 09:30 in Paris (UTC+2, summer); 16:30 UTC = 18:30 → closed
  assert.equal(inWindow(new Date('2026-07-06T07:30:00Z'), weekdaysParis), true)
  assert.equal(inWindow(new Date('2026-07-06T16:30:00Z'), weekdaysParis), false)
  // Saturday is not a listed day
  assert.equal(inWindow(new Date('2026-03-07T10:00:00Z'), weekdaysParis), false)
})

test('start is inclusive, end exclusive', () => {
  const w = { days: [0, 1, 2, 3, 4, 5, 6], start: '09:00', end: '17:00', timeZone: 'UTC' }
  assert.equal(inWindow(new Date('2026-03-02T09:00:00Z'), w), true)
  assert.equal(inWindow(new Date('2026-03-02T16:59:59Z'), w), true)
  assert.equal(inWindow(new Date('2026-03-02T17:00:00Z'), w), false)
})

test('a window that spans midnight belongs to the day it starts', () => {
  const fridayNight = { days: [5], start: '22:00', end: '06:00', timeZone: 'UTC' }
  assert.equal(inWindow(new Date('2026-03-06T23:00:00Z'), fridayNight), true, 'Friday 23:00')
  assert.equal(inWindow(new Date('2026-03-07T05:59:00Z'), fridayNight), true, 'Saturday 05:59')
  assert.equal(inWindow(new Date('2026-03-07T06:00:00Z'), fridayNight), false, 'Saturday 06:00')
  assert.equal(inWindow(new Date('2026-03-06T05:00:00Z'), fridayNight), false, 'Friday 05:00 belongs to Thursday night')
})

test('local time uses the IANA zone, including half-hour offsets', () => {
  assert.deepEqual(localTime(new Date('2026-03-02T00:00:00Z'), 'Asia/Kolkata'), { day: 1, minute: 5 * 60 + 30 })
  assert.deepEqual(localTime(new Date('2026-03-02T00:00:00Z'), 'America/Los_Angeles'), { day: 0, minute: 16 * 60 })
})

test('invalid windows are named precisely', () => {
  assert.match(windowProblem({ ...weekdaysParis, timeZone: 'Mars/Olympus' })!, /IANA/)
  assert.match(windowProblem({ ...weekdaysParis, start: '25:00' })!, /start/)
  assert.match(windowProblem({ ...weekdaysParis, end: '9:00' })!, /end/)
  assert.match(windowProblem({ ...weekdaysParis, days: [7] })!, /days/)
  assert.match(windowProblem({ ...weekdaysParis, end: '09:00' })!, /differ/)
  assert.equal(windowProblem({ ...weekdaysParis, end: '24:00' }), null)
})

test('windowWithin compares windows in the same zone only', () => {
  assert.equal(windowWithin({ ...weekdaysParis, days: [1], start: '10:00', end: '12:00' }, weekdaysParis), true)
  assert.equal(windowWithin({ ...weekdaysParis, days: [6] }, weekdaysParis), false)
  assert.equal(windowWithin({ ...weekdaysParis, end: '19:00' }, weekdaysParis), false)
  assert.equal(windowWithin({ ...weekdaysParis, timeZone: 'UTC' }, weekdaysParis), false)
})
