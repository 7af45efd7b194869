import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkCustomHeaders, HEADER_LIMITS } from '../../src/validation/headers.ts'
import { checkSubject } from '../../src/validation/subject.ts'
import { AppError } from '../../src/core/errors.ts'

function refused(fn: () => unknown, reason: string, field?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e))
    assert.equal(e.code, 'invalid_header')
    assert.equal((e as any).details.reason, reason)
    if (field) assert.equal((e as any).details.field, field)
    return true
  })
}

test('accepts X-* and the documented headers, in object or array form', () => {
  assert.deepEqual(checkCustomHeaders({ 'X-Campaign': 'fall', 'List-Id': '<news.x.io>' }), [
    { name: 'X-Campaign', value: 'fall' }, { name: 'List-Id', value: '<news.x.io>' },
  ])
  assert.deepEqual(checkCustomHeaders([{ name: 'In-Reply-To', value: '<a1@x.io>' }, { name: 'References', value: '<a0@x.io> <a1@x.io>' }]).length, 2)
  assert.deepEqual(checkCustomHeaders(undefined), [])
  assert.equal(checkCustomHeaders({ 'X-Note': 'Grüße' })[0].value, 'Grüße')
})

test('refuses every header Sealpost sets or signs', () => {
  for (const name of ['From', 'to', 'CC', 'Bcc', 'Reply-To', 'Sender', 'Subject', 'Date', 'Message-ID', 'MIME-Version',
    'Content-Type', 'Content-Transfer-Encoding', 'DKIM-Signature', 'ARC-Seal', 'Authentication-Results', 'Received',
    'Return-Path', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'Feedback-ID', 'Resent-From', 'X-Sealpost-Org',
    'X-Forwarded-For', 'X-Original-To', 'X-']) {
    refused(() => checkCustomHeaders({ [name]: 'v' }), 'not_allowed')
  }
})

test('header names follow RFC 5322 token rules', () => {
  refused(() => checkCustomHeaders({ 'X-A: b': 'v' }), 'invalid_name')
  refused(() => checkCustomHeaders({ 'X-A\r\nBcc': 'v' }), 'invalid_name')
  refused(() => checkCustomHeaders({ 'X A': 'v' }), 'invalid_name')
  refused(() => checkCustomHeaders({ 'X-Ä': 'v' }), 'invalid_name')
  refused(() => checkCustomHeaders({ ['X-' + 'a'.repeat(80)]: 'v' }), 'name_too_long')
  refused(() => checkCustomHeaders([{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }]), 'duplicate')
})

test('header values: no CR/LF/NUL, bounded, message ids where required', () => {
  refused(() => checkCustomHeaders({ 'X-A': 'x\r\nBcc: victim@y.io' }), 'control_characters', 'headers.X-A')
  refused(() => checkCustomHeaders({ 'X-A': 'x\nBcc: victim@y.io' }), 'control_characters')
  refused(() => checkCustomHeaders({ 'X-A': 'x\u0000' }), 'control_characters')
  refused(() => checkCustomHeaders({ 'X-A': 'x'.repeat(HEADER_LIMITS.line) }), 'too_long')
  refused(() => checkCustomHeaders({ 'X-A': 42 }), 'not_a_string')
  refused(() => checkCustomHeaders({ 'In-Reply-To': 'not a message id' }), 'invalid_message_id')
  refused(() => checkCustomHeaders(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v']))), 'too_many')
  refused(() => checkCustomHeaders(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`X-H${i}`, 'v'.repeat(900)]))), 'too_large')
  refused(() => checkCustomHeaders('X-A: b'), 'not_an_object')
})

test('subject: bounded, single line', () => {
  assert.equal(checkSubject('  Your invoice  '), 'Your invoice')
  refused(() => checkSubject('x\r\nBcc: victim@y.io'), 'control_characters', 'subject')
  refused(() => checkSubject('x'.repeat(501)), 'too_long')
  refused(() => checkSubject(null), 'not_a_string')
  refused(() => checkSubject('=?utf-8?B?eA0KQmNjOiB2aWN0aW0=?='), 'encoded_word')
})
