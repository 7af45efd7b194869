/**
 * Large JSON bodies are parsed in the offload pool with the same refusals as the on-loop
 * parser: prototype-poisoning keys, invalid UTF-8, invalid JSON, the JSON limits.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { parseJsonBody } from '../../src/offload/json.ts'
import { AppError } from '../../src/core/errors.ts'

const reasonOf = (reason: string) => (e: unknown) => e instanceof AppError && e.code === 'invalid_request' && (e.details as { reason: string }).reason === reason

test('parseJsonBody refuses poisoning keys, bad UTF-8, bad JSON and the JSON limits; parses the rest', () => {
  const bytes = (s: string) => new TextEncoder().encode(s)
  assert.deepEqual(parseJsonBody(bytes('{"a":[1,{"b":"c"}]}')), { a: [1, { b: 'c' }] })
  assert.throws(() => parseJsonBody(bytes('{"a":{"__proto__":{"admin":true}}}')), reasonOf('forbidden_property'))
  assert.throws(() => parseJsonBody(bytes('{"a":[{"constructor":{"prototype":{"x":1}}}]}')), reasonOf('forbidden_property'))
  assert.deepEqual(parseJsonBody(bytes('{"constructor":"a string is harmless"}')), { constructor: 'a string is harmless' })
  assert.throws(() => parseJsonBody(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), reasonOf('invalid_utf8'))
  assert.throws(() => parseJsonBody(bytes('{"a":')), (e: unknown) => reasonOf('invalid_json')(e) && !(e as Error).message.includes('"a"'))
  assert.throws(() => parseJsonBody(bytes('['.repeat(100) + ']'.repeat(100))), reasonOf('too_deep'))
})

test('over HTTP, a body of 256 KiB or more is parsed in the pool, with the same refusals', async (t) => {
  const app = await buildTestApp()
  t.after(() => app.close())
  const org = await app.seedOrg()
  await app.seedDomain(org.orgId, 'example.com')
  const post = (payload: string) => app.http.inject({ method: 'POST', url: '/v1/messages', headers: { ...bearer(org.testKey), 'content-type': 'application/json' }, payload })
  const big = 'x'.repeat(300 * 1024)
  const before = app.app.offload.stats().completed
  const ok = await post(JSON.stringify({ from: 'a@example.com', to: 'b@example.org', subject: 's', text: big }))
  assert.equal(ok.statusCode, 202, ok.body)
  assert.equal(app.app.offload.stats().completed - before, 2, 'one task parsed the body, one validated the message')
  const poisoned = await post(`{"from":"a@example.com","to":"b@example.org","subject":"s","text":"${big}","metadata":{"__proto__":{"x":"1"}}}`)
  assert.equal(poisoned.statusCode, 400)
  assert.equal(poisoned.json().error.details.reason, 'forbidden_property')
  const small = await post('{"from":"a@example.com","to":"b@example.org","subject":"s","text":"t","metadata":{"__proto__":{"x":"1"}}}')
  assert.equal(small.statusCode, 400, 'the on-loop parser refuses it too')
  const before2 = app.app.offload.stats().completed
  assert.equal((await post(JSON.stringify({ from: 'a@example.com', to: 'b@example.org', subject: 's', text: 'small' }))).statusCode, 202)
  assert.equal(app.app.offload.stats().completed - before2, 1, 'a small body is parsed on the loop')
})
