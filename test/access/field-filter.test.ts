import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fieldFilter, masks } from '../../src/access/field-filter.ts'

const eventView = fieldFilter({ type: true, recipient: { scope: 'contacts:pii', mask: masks.email } })
const messageView = fieldFilter({
  id: true,
  to: { scope: 'contacts:pii', mask: masks.email },
  phone: { scope: 'contacts:pii' },
  api_token: { mask: masks.last4 },
  events: { nested: eventView },
})
const row = {
  id: 'msg_1', to: ['alice@example.com', 'bob@example.org'], phone: '+33 6 12 34 56 78', api_token: 'abcdefgh1234',
  events: [{ type: 'delivered', recipient: 'alice@example.com', internal_note: 'x' }],
  hash: 'deadbeef', org_id: 'org_1',
}

test('without the scope, sensitive fields are masked or dropped, and unlisted fields never appear', () => {
  const out = messageView({ scopes: ['messages:read'] }, row)
  assert.deepEqual(out, {
    id: 'msg_1', to: ['a***@example.com', 'b***@example.org'], api_token: '***1234',
    events: [{ type: 'delivered', recipient: 'a***@example.com' }],
  })
})

test('with the scope, values come through in clear (always-masked fields stay masked)', () => {
  const out = messageView({ scopes: ['contacts:pii'] }, row)
  assert.deepEqual(out.to, row.to)
  assert.equal(out.phone, row.phone)
  assert.equal(out.api_token, '***1234')
  assert.deepEqual(out.events, [{ type: 'delivered', recipient: 'alice@example.com' }])
  assert.equal('hash' in out, false)
  assert.equal('org_id' in out, false)
})

test('lists are filtered item by item; nulls stay null; no principal means the least', () => {
  const out = messageView.many(null, [row, { id: 'msg_2', to: null }])
  assert.equal(out.length, 2)
  assert.deepEqual(out[1], { id: 'msg_2', to: null })
  assert.deepEqual(messageView.fields, ['id', 'to', 'phone', 'api_token', 'events'])
})

test('email mask keeps only the first character and the domain', () => {
  assert.equal(masks.email('x@y.z'), 'x***@y.z')
  assert.equal(masks.email('"a@b"@example.com'), '"***@example.com')
  assert.equal(masks.email('no-at-sign'), '***')
})
