import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'

const EVIL = 'x\r\nBcc: victim@evil.test'
const message = (over: Record<string, unknown> = {}) => ({
  from: 'Acme <billing@acme.test>', to: ['alice@example.com'], subject: 'Invoice', text: 'Hi', ...over,
})
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(16, 1)]).toString('base64')

test('send API: header injection is refused in every field that reaches a header, and nothing is stored', async (t) => {
  const h = await buildTestApp()
  t.after(() => h.close())
  const org = await h.seedOrg('Acme')
  await h.seedDomain(org.orgId, 'acme.test')
  const send = (body: unknown) => h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: body as object })
  const ok = await send(message())
  assert.equal(ok.statusCode, 202, ok.body)

  const cases: [string, Record<string, unknown>][] = [
    ['subject', { subject: EVIL }],
    ['from address', { from: `billing@acme.test${EVIL}` }],
    ['from name', { from: `${EVIL} <billing@acme.test>` }],
    ['from quoted name', { from: `"${EVIL}" <billing@acme.test>` }],
    ['to address', { to: [`alice@example.com${EVIL}`] }],
    ['to name', { to: [`${EVIL} <alice@example.com>`] }],
    ['to string', { to: `alice@example.com, ${EVIL} <bob@example.com>` }],
    ['cc', { cc: [`${EVIL} <carol@example.com>`] }],
    ['bcc', { bcc: [`dave@example.com${EVIL}`] }],
    ['reply_to', { reply_to: `${EVIL} <help@acme.test>` }],
    ['custom header value', { headers: { 'X-Campaign': EVIL } }],
    ['custom header name', { headers: { [`X-A${EVIL}`]: 'v' } }],
    ['forbidden header', { headers: { Bcc: 'victim@evil.test' } }],
    ['attachment filename', { attachments: [{ filename: `${EVIL}.png`, content: PNG }] }],
    ['attachment content type', { attachments: [{ filename: 'a.png', content: PNG, content_type: `image/png${EVIL}` }] }],
    ['encoded-word subject', { subject: '=?utf-8?B?eA0KQmNjOiB2aWN0aW1AZXZpbC50ZXN0?=' }],
    ['unicode line separator', { subject: 'x\u2028Bcc: victim@evil.test' }],
  ]
  for (const [label, over] of cases) {
    const r = await send(message(over))
    assert.equal(r.statusCode, 400, `${label}: ${r.statusCode} ${r.body}`)
    assert.match(r.json().error.code, /^invalid_/, label)
    assert.ok(!r.body.includes('victim'), `${label}: echoed the payload`)
  }
  const list = await h.http.inject({ method: 'GET', url: '/v1/messages?limit=100', headers: bearer(org.liveKey) })
  assert.equal(list.json().data.length, 1, 'only the clean message was stored')
})
