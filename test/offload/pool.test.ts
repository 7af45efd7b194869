/**
 * The offload pool: a task over its time budget is cut (its thread terminated, a fresh one
 * serves the next task), refusals cross the thread boundary as the same AppError, bugs as
 * plain errors (500), a full queue answers server_busy, a heap cap turns a memory bomb into
 * content_too_complex.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../../src/core/errors.ts'
import { createOffloadPool, WALL_FACTOR, type OffloadPool } from '../../src/offload/pool.ts'
import type { tasks } from './fixture-tasks.ts'

const FIXTURE = new URL('./fixture-tasks.ts', import.meta.url)
const pool = (over: Partial<Parameters<typeof createOffloadPool>[0]> = {}): OffloadPool<typeof tasks> =>
  createOffloadPool<typeof tasks>({ tasks: FIXTURE, threads: 1, taskBudgetMs: 300, maxQueue: 4, ...over })

test('a task over budget is cut with content_too_complex, and the pool serves the next task on a new thread', async (t) => {
  const p = pool()
  t.after(() => p.close())
  const firstThread = await p.run('spin', { ms: 1 })
  const started = Date.now()
  await assert.rejects(p.run('spin', { ms: 60_000 }), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'content_too_complex')
    assert.equal(e.status, 422)
    assert.deepEqual(e.details, { reason: 'time_budget', budgetMs: 300 })
    return true
  })
  // Cut at the budget, not when the 60 s loop ends (watchdog with a wide margin).
  assert.ok(Date.now() - started < 15_000)
  const nextThread = await p.run('spin', { ms: 1 })
  assert.notEqual(nextThread, firstThread, 'the spinning thread was terminated and replaced')
  assert.deepEqual(p.stats().cut, { cpu: 1, wall: 0 }, 'cut by its CPU time, before the wall-clock cap')
})

test('the budget is CPU time: a task that waits past it is not cut, until the wall-clock cap (10 budgets)', async (t) => {
  const p = pool({ taskBudgetMs: 300 })
  t.after(() => p.close())
  assert.equal(typeof await p.run('sleep', { ms: 1200 }), 'number', 'four budgets of waiting, no CPU: not cut')
  const started = Date.now()
  await assert.rejects(p.run('sleep', { ms: 60_000 }), (e: unknown) => e instanceof AppError && e.code === 'content_too_complex')
  const waited = Date.now() - started
  assert.ok(waited >= 300 * WALL_FACTOR - 50, `cut by the wall cap, not the CPU budget (${waited} ms)`)
  assert.ok(waited < 30_000, 'cut long before the task would end')
  assert.deepEqual(p.stats().cut, { cpu: 0, wall: 1 })
})

test('budgets count from when a thread starts the task, not while it waits in the queue', async (t) => {
  const p = pool({ threads: 1, taskBudgetMs: 100 })
  t.after(() => p.close())
  // Wall cap 1 s; three 700 ms waits on one thread: the third is queued 1.4 s, then runs 0.7 s.
  const results = await Promise.allSettled([1, 2, 3].map(() => p.run('sleep', { ms: 700 })))
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'])
})

test('an AppError thrown in a worker arrives as the same AppError (code, status, message, details, headers)', async (t) => {
  const p = pool()
  t.after(() => p.close())
  await assert.rejects(p.run('refuse', { field: 'headers.References' }), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'invalid_header')
    assert.equal(e.status, 400)
    assert.equal(e.message, 'The value of References must be message ids.')
    assert.deepEqual(e.details, { field: 'headers.References', reason: 'invalid_message_id' })
    assert.deepEqual(e.headers, { 'x-why': 'test' })
    return true
  })
})

test('a bug in a task is a plain Error (rendered 500), never mistaken for a refusal', async (t) => {
  const p = pool()
  t.after(() => p.close())
  await assert.rejects(p.run('crash', undefined as never), (e: unknown) => {
    assert.ok(!(e instanceof AppError))
    assert.match((e as Error).message, /offloaded task crash failed: TypeError: cannot read properties of undefined/)
    return true
  })
})

test('inputs and results cross by structured clone', async (t) => {
  const p = pool()
  t.after(() => p.close())
  const out = await p.run('echo', { text: 'héllo', bytes: new Uint8Array([0, 1, 255]) })
  assert.equal(out.text, 'héllo')
  assert.deepEqual([...out.bytes], [0, 1, 255])
})

test('with every thread busy and the queue full, a task is refused with server_busy and Retry-After', async (t) => {
  const p = pool({ threads: 1, maxQueue: 1, taskBudgetMs: 5000 })
  t.after(() => p.close())
  const running = [p.run('spin', { ms: 400 }), p.run('spin', { ms: 1 })]
  await assert.rejects(p.run('spin', { ms: 1 }), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'server_busy')
    assert.equal(e.status, 503)
    assert.deepEqual(e.headers, { 'retry-after': '5' })
    return true
  })
  await Promise.all(running)
  // Capacity comes back when tasks finish.
  assert.equal(typeof await p.run('spin', { ms: 1 }), 'number')
})

test('a task that allocates past the thread heap cap gets content_too_complex (memory), and the pool goes on', async (t) => {
  const p = pool({ maxHeapMb: 32, taskBudgetMs: 20_000 })
  t.after(() => p.close())
  await assert.rejects(p.run('hog', undefined as never), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'content_too_complex')
    assert.deepEqual(e.details, { reason: 'memory' })
    return true
  })
  assert.equal(typeof await p.run('spin', { ms: 1 }), 'number')
})

test('worker threads run below the event loop\'s priority (nice 10), the main thread unchanged', { skip: process.platform !== 'linux' && 'per-thread nice values are Linux behaviour' }, async (t) => {
  const p = pool()
  t.after(() => p.close())
  const { getPriority, constants } = await import('node:os')
  assert.equal(await p.run('priority', undefined as never), constants.priority.PRIORITY_BELOW_NORMAL)
  assert.equal(getPriority(0), constants.priority.PRIORITY_NORMAL)
})

test('a closed pool refuses new tasks with unavailable', async () => {
  const p = pool()
  await p.run('spin', { ms: 1 })
  await p.close()
  await assert.rejects(p.run('spin', { ms: 1 }), (e: unknown) => e instanceof AppError && e.code === 'unavailable')
})
