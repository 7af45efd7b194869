/**
 * The adversarial corpus of issue 12, plus generated worst cases per validator: each row is
 * one request and the exact answer it must get. Bodies are built once, up front, so that
 * building them never competes with the measurement.
 */
import { deflateSync } from 'node:zlib'
import { HTML_LIMITS } from '../../src/messages/draft.ts'

export interface Row {
  name: string
  path: '/v1/messages' | '/v1/messages/batch'
  body: string
  /** Extra request headers (a header flood). */
  headers?: Record<string, string>
  status: number
  /** Error code, or null for an accepted message. */
  code: string | null
}

const FROM = 'Corpus <hello@sealpost.localhost>'
const base = { from: FROM, to: ['alice@example.com'], subject: 'corpus', text: 'plain text' }
const send = (over: Record<string, unknown>) => JSON.stringify({ ...base, ...over })
const attachment = (filename: string, content_type: string, bytes: Buffer) => ({ attachments: [{ filename, content_type, content: bytes.toString('base64') }] })

/** `count` stored, empty entries (CRC 0) plus `last`: local headers, central directory, end record. */
export function zipWithEntries(count: number, last: string): Buffer {
  const names = [...Array.from({ length: count }, (_, i) => `f${i}.txt`), last]
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const n of names) {
    const name = Buffer.from(n)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6)
    central.writeUInt16LE(name.length, 28); central.writeUInt32LE(offset, 42)
    locals.push(local, name)
    centrals.push(central, name)
    offset += 30 + name.length
  }
  const dir = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  const entries = Math.min(names.length, 0xfffe)
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries, 8); end.writeUInt16LE(entries, 10)
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
}

/** A PDF of `streams` FlateDecode streams, each inflating to 1 MiB of zeros, and a JavaScript action in the clear. */
export function pdfWithFlateStreams(streams: number): Buffer {
  const zeros = deflateSync(Buffer.alloc(1 << 20))
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')]
  for (let i = 1; i <= streams; i++) {
    parts.push(Buffer.from(`${i} 0 obj\n<< /Length ${zeros.length} /Filter /FlateDecode >>\nstream\n`), zeros, Buffer.from('\nendstream\nendobj\n'))
  }
  parts.push(Buffer.from(`${streams + 1} 0 obj\n<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`))
  return Buffer.concat(parts)
}

const PARA = '<p style="color:#333">Hello <a href="https://example.com/x">link</a> <b>bold</b> text text text</p>\n'
/** As much well-formed HTML as the bounds allow (elements or characters, whichever binds first). */
const largestAllowedHtml = () => PARA.repeat(Math.min(Math.floor(HTML_LIMITS.maxElements / 3), Math.floor(HTML_LIMITS.maxChars / PARA.length)))
const fiveMb = (unit: string) => unit.repeat(Math.floor(4_999_000 / unit.length))
/** `<@@@@@@> ` repeated: the catastrophic-backtracking input of the old message-id regex. */
const atIds = (maxLength: number, tail = '') => '<@@@@@@> '.repeat(Math.floor((maxLength - tail.length) / 9)) + tail

export function corpus(): Row[] {
  const rows: Row[] = []
  const add = (name: string, body: string, status: number, code: string | null, extra: Partial<Row> = {}) =>
    rows.push({ name, path: '/v1/messages', body, status, code, ...extra })

  add('control: a plain message', send({}), 202, null)
  // Headers (References value <= 998 - "References: ".length = 986 characters).
  add('References <@@@@@@> x 109 + junk (backtracking)', send({ headers: { References: atIds(986, 'x') } }), 400, 'invalid_header')
  add('In-Reply-To <@@@@@@> x 109', send({ headers: { 'In-Reply-To': atIds(986 - 3) } }), 400, 'invalid_header')
  add('References 998 characters', send({ headers: { References: atIds(998, '<a@b.example>').slice(-998) } }), 400, 'invalid_header')
  add('References: valid ids up to the line limit', send({ headers: { References: '<a1@b.example> '.repeat(65).trim() } }), 202, null)
  add('21 custom headers', send({ headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])) }), 400, 'invalid_request')
  add('a 5000-character header name', send({ headers: { [`X-${'a'.repeat(5000)}`]: 'v' } }), 400, 'invalid_request')
  add('subject with a NUL at 500', send({ subject: `${'a'.repeat(499)}\u0000` }), 400, 'invalid_header')
  add('subject: an encoded-word that never closes', send({ subject: `=?utf-8?b?${'A'.repeat(490)}` }), 202, null)
  // HTML: the sanitiser is superlinear in open-element depth; bounds refuse before it runs.
  add('html <b> x 160,000', send({ html: '<b>'.repeat(160_000) }), 422, 'content_too_complex')
  add('html <b> x 320,000', send({ html: '<b>'.repeat(320_000) }), 422, 'content_too_complex')
  add('html 5 MB unclosed', send({ html: fiveMb('<b>') }), 413, 'payload_too_large')
  add('html 5 MB well-formed', send({ html: fiveMb(PARA) }), 413, 'payload_too_large')
  add('html <div> nested 100,000 deep', send({ html: '<div>'.repeat(100_000) }), 422, 'content_too_complex')
  add('html <b> x 25,000 (at the element bound)', send({ html: '<b>'.repeat(HTML_LIMITS.maxElements) }), 202, null)
  add('html: the largest allowed well-formed page', send({ html: largestAllowedHtml() }), 202, null)
  add('html: 1 MB of text in one paragraph', send({ html: `<p>${'lorem '.repeat(Math.floor((HTML_LIMITS.maxChars - 7) / 6))}</p>` }), 202, null)
  // Addresses (the schema allows 512 characters each).
  add('from: 500 letters and an @', send({ from: `${'a'.repeat(500)}@` }), 400, 'invalid_address')
  add('to: an escaped quote run that never closes', send({ to: `"${'\\"'.repeat(255)}` }), 400, 'invalid_address')
  add('to: 511 open parentheses', send({ to: `${'('.repeat(511)}a` }), 400, 'invalid_address')
  add('to: a 508-character dotted domain', send({ to: `a@${'b.'.repeat(254)}c` }), 400, 'invalid_address')
  add('to: an address literal of 500 digits', send({ to: `user@[${'1'.repeat(500)}]` }), 400, 'invalid_address')
  add('to: 50 long name-addr with 300-character local parts', send({ to: Array.from({ length: 50 }, () => `${'x'.repeat(190)} <${'y'.repeat(300)}@example.com>`) }), 400, 'invalid_address')
  // Other fields.
  add('tags: a 65-character tag', send({ tags: [`${'a'.repeat(64)}!`] }), 400, 'invalid_request')
  add('send_at: a leap second (schema-valid, not a Date)', send({ send_at: '2026-12-31T23:59:60Z' }), 400, 'invalid_request')
  add('JSON nested 100,000 deep', `{"from":"${FROM}","to":"a@example.com","subject":"s","text":"t","metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, 'invalid_request')
  add('JSON with 200,000 values', send({ tags: Array.from({ length: 200_000 }, () => 1) }), 400, 'invalid_request')
  // Attachment bombs.
  add('zip with 60,000 entries, the last payload.exe', send(attachment('bomb.zip', 'application/zip', zipWithEntries(60_000, 'payload.exe'))), 400, 'invalid_attachment')
  add('pdf with 3,000 Flate streams of 1 MiB zeros and /JavaScript', send(attachment('bomb.pdf', 'application/pdf', pdfWithFlateStreams(3000))), 400, 'invalid_attachment')
  add('attachment of 13 MB invalid base64', send({ attachments: [{ filename: 'a.txt', content_type: 'text/plain', content: `${'A'.repeat(13_000_000)}!!!` }] }), 400, 'invalid_attachment')
  // Batches: validated in parallel tasks; a bad message anywhere refuses the batch.
  rows.push({ name: 'batch of 8 at the element bound', path: '/v1/messages/batch', body: JSON.stringify({ messages: Array.from({ length: 8 }, () => ({ ...base, html: '<b>'.repeat(20_000) })) }), status: 202, code: null })
  rows.push({ name: 'batch of 20 with References backtracking in #13', path: '/v1/messages/batch', body: JSON.stringify({ messages: Array.from({ length: 20 }, (_, i) => ({ ...base, ...(i === 13 ? { headers: { References: atIds(986, 'x') } } : {}) })) }), status: 400, code: 'invalid_header' })
  // HTTP level: more header bytes than Node accepts (16 KiB).
  add('600 request headers (20 KB)', send({}), 431, 'headers_too_large', { headers: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`x-flood-${i}`, 'v'.repeat(24)])) })
  return rows
}
