/**
 * Message validation through the offload pool: the Draft that comes back equals the
 * in-process one (attachment Buffers revived), a batch reports its lowest-indexed bad
 * message like a sequential loop, an over-budget message is named; and the HTML bounds
 * that keep the sanitiser under its budget.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../../src/core/errors.ts'
import { createOffloadPool } from '../../src/offload/pool.ts'
import { TASKS_MODULE, type SealpostTasks } from '../../src/offload/tasks.ts'
import { HTML_LIMITS, offloadedDraftValidator, validateDraft } from '../../src/messages/draft.ts'
import type { SendInput } from '../../src/messages/schema.ts'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const msg = (over: Partial<SendInput> = {}): SendInput => ({ from: 'Ann <ann@example.com>', to: 'bob@example.org', subject: 'Hi', text: 'hello', ...over })
const field = (i: number) => `messages[${i}]`
const codeAndField = (code: string, f: string) => (e: unknown) => {
  assert.ok(e instanceof AppError, String(e))
  assert.equal(e.code, code)
  assert.equal((e.details as { field?: string }).field?.startsWith(f), true, JSON.stringify(e.details))
  return true
}

test('a draft validated in the pool equals the in-process one, attachments as Buffers', async (t) => {
  const pool = createOffloadPool<SealpostTasks>({ tasks: TASKS_MODULE, threads: 2, taskBudgetMs: 5000, maxQueue: 8 })
  t.after(() => pool.close())
  const input = msg({
    html: '<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>',
    headers: { 'X-Campaign': 'fall', References: '<a@example.com> <b@example.com>' },
    attachments: [{ filename: 'notes.txt', content: Buffer.from('plain notes').toString('base64'), content_type: 'text/plain' }],
    tags: ['t1'], metadata: { k: 'v' },
  })
  const [offloaded] = await offloadedDraftValidator(pool)([input], NOW, () => '')
  const inline = validateDraft(input, NOW)
  assert.ok(Buffer.isBuffer(offloaded.attachments[0].content))
  assert.equal(offloaded.attachments[0].content.toString(), 'plain notes')
  assert.deepEqual(offloaded, inline)
})

test('a batch is refused with its lowest-indexed bad message, even when a later one fails first', async (t) => {
  const pool = createOffloadPool<SealpostTasks>({ tasks: TASKS_MODULE, threads: 2, taskBudgetMs: 10_000, maxQueue: 8 })
  t.after(() => pool.close())
  const slowBad = msg({ html: '<p>x</p>'.repeat(HTML_LIMITS.maxElements - 1), headers: { References: 'not a message id' } })
  const fastBad = msg({ from: 'not an address' })
  const validate = offloadedDraftValidator(pool)
  await assert.rejects(validate([msg(), slowBad, fastBad, msg()], NOW, field), codeAndField('invalid_header', 'messages[1]'))
  await assert.rejects(validate([msg(), msg(), fastBad], NOW, field), codeAndField('invalid_address', 'messages[2]'))
  assert.equal((await validate([msg(), msg(), msg()], NOW, field)).length, 3)
})

test('a message over the time budget is named in a batch (content_too_complex, messages[i])', async (t) => {
  const pool = createOffloadPool<SealpostTasks>({ tasks: TASKS_MODULE, threads: 1, taskBudgetMs: 50, maxQueue: 8 })
  t.after(() => pool.close())
  // ~0.2 s of sanitising here (docs/availability.md), four times the 50 ms budget.
  const heavy = msg({ html: '<b>'.repeat(HTML_LIMITS.maxElements) })
  await assert.rejects(offloadedDraftValidator(pool)([msg(), heavy], NOW, field), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'content_too_complex')
    assert.deepEqual(e.details, { field: 'messages[1]', reason: 'time_budget', budgetMs: 50 })
    return true
  })
})

test('html over the element bound is refused before sanitising (content_too_complex); at the bound it passes', () => {
  const at = '<b>'.repeat(HTML_LIMITS.maxElements)
  assert.equal(typeof validateDraft(msg({ html: at }), NOW).html, 'string')
  assert.throws(() => validateDraft(msg({ html: at + '<i>' }), NOW), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'content_too_complex')
    assert.deepEqual(e.details, { field: 'html', reason: 'too_many_elements', max: HTML_LIMITS.maxElements })
    return true
  })
  // End tags, comments and text are not elements: a long well-formed page with few elements passes.
  assert.equal(typeof validateDraft(msg({ html: '<p>' + 'a < b </p><!-- c -->'.repeat(40_000) }), NOW).html, 'string')
})

test('html over the size bound is refused with payload_too_large', () => {
  assert.throws(() => validateDraft(msg({ html: 'a'.repeat(HTML_LIMITS.maxChars + 1) }), NOW), (e: unknown) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'payload_too_large')
    assert.deepEqual(e.details, { field: 'html', reason: 'too_large', maxLength: HTML_LIMITS.maxChars })
    return true
  })
  assert.equal(typeof validateDraft(msg({ html: 'a'.repeat(HTML_LIMITS.maxChars) }), NOW).html, 'string')
})
