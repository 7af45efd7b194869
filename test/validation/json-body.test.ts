import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { checkJsonLimits, DEFAULT_JSON_LIMITS } from '../../src/validation/json-body.ts'

const reason = (fn: () => void) => { try { fn(); return null } catch (e: any) { return e.details.reason } }

test('checkJsonLimits: depth, string, key and element limits, ignoring brackets inside strings', () => {
  const limits = { maxDepth: 3, maxStringLength: 10, maxKeyLength: 4, maxElements: 20 }
  assert.equal(reason(() => checkJsonLimits('{"a":[{"b":1}]}', limits)), null)
  assert.equal(reason(() => checkJsonLimits('{"a":[{"b":[1]}]}', limits)), 'too_deep')
  assert.equal(reason(() => checkJsonLimits('{"a":"[[[[\\"{{"}', limits)), null)
  assert.equal(reason(() => checkJsonLimits('{"a":"12345678901"}', limits)), 'string_too_long')
  assert.equal(reason(() => checkJsonLimits('{"abcde" : 1}', limits)), 'key_too_long')
  assert.equal(reason(() => checkJsonLimits('{"a":"abcde"}', limits)), null)
  assert.equal(reason(() => checkJsonLimits(`[${'1,'.repeat(30)}1]`, limits)), 'too_many_elements')
  assert.equal(reason(() => checkJsonLimits('['.repeat(1_000_000), DEFAULT_JSON_LIMITS)), 'too_deep')
})

test('request bodies: deep, oversized or non-UTF-8 JSON gets 400, never a 5xx', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const org = await h.seedOrg()
  const post = (payload: string | Buffer) => h.http.inject({ method: 'POST', url: '/v1/messages', headers: { ...bearer(org.liveKey), 'content-type': 'application/json' }, payload })

  const deep = await post('{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000))
  assert.equal(deep.statusCode, 400)
  assert.equal(deep.json().error.details.reason, 'too_deep')

  const deepArray = await post('['.repeat(5_000_000))
  assert.equal(deepArray.statusCode, 400)

  const badUtf8 = await post(Buffer.concat([Buffer.from('{"subject":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]))
  assert.equal(badUtf8.statusCode, 400)
  assert.equal(badUtf8.json().error.details.reason, 'invalid_utf8')

  const longKey = await post(`{"${'k'.repeat(1000)}":1}`)
  assert.equal(longKey.statusCode, 400)
  assert.equal(longKey.json().error.details.reason, 'key_too_long')
  assert.ok(!longKey.body.includes('kkkkkkkk'))

  const proto = await post('{"__proto__":{"admin":true}}')
  assert.equal(proto.statusCode, 400)

  const syntax = await post('{"a":')
  assert.equal(syntax.statusCode, 400)
  assert.equal(syntax.json().error.code, 'invalid_request')

  // The server is still up and parses ordinary JSON.
  const ok = await h.http.inject({ method: 'GET', url: '/healthz' })
  assert.equal(ok.statusCode, 200)
})
