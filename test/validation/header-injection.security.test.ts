import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAddress, parseAddressList } from '../../src/validation/address.ts'
import { checkCustomHeaders } from '../../src/validation/headers.ts'
import { checkSubject } from '../../src/validation/subject.ts'
import { checkAttachments } from '../../src/validation/attachments.ts'
import { AppError } from '../../src/core/errors.ts'

/** Every line-break a mail parser might honour, and an encoded-word that decodes to one. */
const BREAKS = ['\r\n', '\n', '\r', '\u0000', '\u2028', '\u0085', '\r\n\t']
const injections = [
  ...BREAKS.map((br) => `x${br}Bcc: victim@y.io`),
  '=?utf-8?B?eA0KQmNjOiB2aWN0aW1AeS5pbw==?=',
]

function assertRefused(fn: () => unknown, label: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, `${label}: ${e}`)
    assert.match(e.code, /^invalid_/, label)
    assert.ok(!JSON.stringify([e.message, e.details]).includes('victim'), `${label}: echoed the payload`)
    return true
  }, label)
}

test('Subject: x\\r\\nBcc: victim is refused in every field that reaches a header', () => {
  let cases = 0
  for (const evil of injections) {
    const fields: [string, () => unknown][] = [
      ['subject', () => checkSubject(evil)],
      ['from address', () => parseAddress(`a@x.io${evil}`, 'from')],
      ['from name', () => parseAddress(`${evil} <a@x.io>`, 'from')],
      ['from quoted name', () => parseAddress(`"${evil}" <a@x.io>`, 'from')],
      ['from object name', () => parseAddress({ email: 'a@x.io', name: evil }, 'from')],
      ['from object email', () => parseAddress({ email: `a@x.io${evil}` }, 'from')],
      ['reply_to', () => parseAddress(`${evil} <r@x.io>`, 'reply_to')],
      ...(['to', 'cc', 'bcc'] as const).flatMap((f): [string, () => unknown][] => [
        [`${f} address`, () => parseAddressList([`b@y.io${evil}`], f)],
        [`${f} name`, () => parseAddressList([{ email: 'b@y.io', name: evil }], f)],
        [`${f} string list`, () => parseAddressList(`b@y.io, ${evil} <c@y.io>`, f)],
      ]),
      ['custom header name', () => checkCustomHeaders({ [`X-A${evil}`]: 'v' })],
      ['custom header value', () => checkCustomHeaders({ 'X-A': evil })],
      ['References value', () => checkCustomHeaders({ References: `<a@x.io>${evil}` })],
      ['attachment filename', () => checkAttachments([{ filename: `${evil}.txt`, content: 'aGk=' }])],
      ['attachment content type', () => checkAttachments([{ filename: 'a.txt', content: 'aGk=', content_type: `text/plain${evil}` }])],
      ['attachment content id', () => checkAttachments([{ filename: 'a.txt', content: 'aGk=', content_id: `id${evil}` }])],
    ]
    for (const [label, fn] of fields) { assertRefused(fn, `${label} ${JSON.stringify(evil)}`); cases++ }
  }
  assert.ok(cases >= 160, `ran ${cases} cases`)
})
