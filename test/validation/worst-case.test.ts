/**
 * Generated worst cases for every validator that sees untrusted text (issue 12, item 1):
 * inputs built to make a backtracking matcher or a naive scanner go super-linear, up to
 * each field's maximum length. A DoS watchdog, not a speed test: each call must finish
 * within max(500 ms, 10 x the time of a benign input of the same size), and must either
 * return or throw an AppError (a clear 4xx), never anything else.
 * The old MSG_IDS took 2.2 s on 118 characters and ~4x more per 9 characters: red here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { AppError } from '../../src/core/errors.ts'
import { checkCustomHeaders, HEADER_LIMITS } from '../../src/validation/headers.ts'
import { parseAddress, parseAddressList, ADDRESS_LIMITS } from '../../src/validation/address.ts'
import { checkSubject, SUBJECT_MAX } from '../../src/validation/subject.ts'
import { checkAttachments, checkFilename } from '../../src/validation/attachments.ts'
import { checkJsonLimits } from '../../src/validation/json-body.ts'
import { sanitizeStylesheet, sanitizeStyleAttribute } from '../../src/validation/css.ts'
import { activeMarkupProblem } from '../../src/validation/active-markup.ts'
import { scanPdf } from '../../src/validation/pdf-scan.ts'
import { makeZip } from './zip-fixture.ts'

const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)

/** Runs fn, accepting a return or an AppError; anything else (RangeError, TypeError) fails. */
function run(fn: () => unknown): void {
  try { fn() } catch (e) {
    if (!(e instanceof AppError)) throw e
  }
}

function time(fn: () => unknown): number {
  const start = performance.now()
  run(fn)
  return performance.now() - start
}

/** Best of two: a real super-linear input is slow both times; a GC pause or a busy core is not. */
const best = (fn: () => unknown) => Math.min(time(fn), time(fn))

function watchdog<T>(benign: T, attacks: Iterable<T>, fn: (input: T) => unknown): void {
  best(() => fn(benign)) // warm-up: JIT and lazy module state
  const baseline = Math.max(best(() => fn(benign)), best(() => fn(benign)))
  // The floor absorbs a loaded CI core; a real blow-up costs seconds to hours.
  const bound = Math.max(500, 10 * baseline)
  for (const attack of attacks) {
    const ms = best(() => fn(attack))
    const shown = typeof attack === 'string' ? JSON.stringify(attack.slice(0, 60)) : String(attack).slice(0, 60)
    assert.ok(ms < bound, `${shown}… took ${ms.toFixed(0)} ms (bound ${bound.toFixed(0)} ms, benign ${baseline.toFixed(1)} ms)`)
  }
}

/** Strings over an alphabet chosen to confuse a matcher, at the field's maximum length. */
const generated = (alphabet: string[], length: number, runs = 50) =>
  fc.sample(fc.array(fc.constantFrom(...alphabet), { minLength: length, maxLength: length }).map((a) => a.join('')), { numRuns: runs, seed: 12 })

test('References / In-Reply-To: message-id lists', () => {
  const max = HEADER_LIMITS.line - 'References'.length - 2
  const references = (value: string) => checkCustomHeaders({ References: value })
  watchdog(fill('<a1b2c3@mail.example.com> ', max).trimEnd(), [
    fill('<@@@@@@> ', 118), fill('<@@@@@@> ', max), fill('<!@@>\t<@', max), fill('<a@', max), fill('@', max), fill('<', max),
    `<${fill('a', 250)}@${fill('@', max - 260)}>`, fill('<a@b> ', max - 1) + '!', fill(' <a@b>', max) + '\u00a0',
    ...generated(['<', '>', '@', ' ', '\t', 'a'], max),
  ], references)
  // The fix keeps what the header means: one or more ids, no @ inside either side.
  assert.equal(references('<a@b.example> <c.d@e.example>')[0].value, '<a@b.example> <c.d@e.example>')
  assert.throws(() => references('<a@b@c.example>'), (e: any) => e.details.reason === 'invalid_message_id')
  assert.throws(() => references('<@@@@@@> '.repeat(13)), (e: any) => e.details.reason === 'invalid_message_id')
})

test('addresses: single, lists, names and quoting', () => {
  const max = ADDRESS_LIMITS.input
  watchdog(fill('Jane Doe <jane.doe@mail.example.com>', max), [
    fill('a', max - 1) + '@', fill('"', max), fill('"\\', max), fill('\\"', max), fill('<', max), fill('a.', max), fill('a@', max),
    `"${fill('\\"', max - 12)}" <a@b.co>`, fill('=?', max), `${fill('a', 60)}@${fill('b.', max - 62)}`, `${fill('x-', 300)}@a.co`,
    ...generated(['"', '\\', '<', '>', '@', '.', ',', ' ', 'a', '='], max),
  ], (s) => parseAddress(s, 'to'))
  const listMax = max * ADDRESS_LIMITS.list
  watchdog(fill('Jane Doe <jane@example.com>, ', listMax), [fill(',"', listMax), fill('"\\,', listMax), fill('<,', listMax), fill('a@b.co,', listMax)],
    (s) => parseAddressList(s, 'to'))
})

test('subject and filenames', () => {
  watchdog(fill('Your invoice for March ', SUBJECT_MAX), [fill('=?', SUBJECT_MAX), fill('=?a?b?', SUBJECT_MAX), fill('=?x?q?', SUBJECT_MAX) + '?',
    ...generated(['=', '?', 'b', 'q', ' ', 'a'], SUBJECT_MAX)], (s) => checkSubject(s))
  watchdog(fill('Quarterly report ', 250) + '.pdf', [fill('.', 255), fill('. ', 255), fill('a.', 255), fill('\u2024', 255), fill('x', 250) + '.exe.',
    ...generated(['.', ' ', 'a', ':', '\u2024', '\uff0e'], 255)], (s) => checkFilename(s, 'attachments[0].filename'))
})

test('attachments: ZIP listings and markup', () => {
  const names = (n: string) => Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`${i}${n}`, 'x']))
  const b64 = (b: Buffer) => b.toString('base64')
  const zipOf = (n: string) => checkAttachments([{ filename: 'a.zip', content: b64(makeZip(names(n))) }])
  watchdog('/report.txt', [`/${fill('.', 1_000)}`, `/${fill('. ', 1_000)}`, `/${fill('../', 1_000)}`, `/${fill(':', 1_000)}`, `/${fill('\u2024', 1_000)}`], zipOf)
  const size = 1_000_000
  watchdog(fill('<invoice id="7"><total currency="EUR">12.50</total></invoice>\n', size), [
    fill('<a:', size), fill('<', size), fill('&#', size), fill('&#x', size), fill('&#1', size), fill(' on', size), fill('\ton=', size), fill('<!', size), fill('j\na\nv\na', size),
  ], activeMarkupProblem)
})

test('PDF scanning: pathological lexer input and object streams', () => {
  const size = 2_000_000
  const pdf = (body: string | Buffer) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(body)])
  const benign = pdf(fill('3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n', size))
  const objStm = `<< /Type /ObjStm /Filter /FlateDecode /Length 10 >>stream\n`
  watchdog(benign, [
    pdf(fill('/', size)), pdf(fill('/#', size)), pdf(fill('/#4', size)), pdf(fill('(', size)), pdf(fill('(\\', size)), pdf(fill('<<', size)), pdf(fill('>>', size)),
    pdf(fill('<', size)), pdf(fill('%', size)), pdf(fill('<< >>stream\n', size)), pdf(fill('<</Length 0>>stream\n', size) + 'endstream'),
    pdf(fill('<</Length 1 0 R>>stream\n', size)), pdf(fill(' stream\r\n', size)), pdf(fill('/OpenAction ', size)), pdf(fill('/Length ', size)),
    pdf(fill(objStm + 'xxxxxxxxxx\nendstream\n', size)),
    pdf(Buffer.concat([Buffer.from(objStm.replace('/Length 10', '')), deflateSync(Buffer.from(fill('/', size))), Buffer.from('\nendstream')])),
    pdf(Buffer.concat([Buffer.from(objStm.replace('/Length 10', '')), deflateSync(Buffer.from(fill('(', size))), Buffer.from('\nendstream')])),
  ], scanPdf)
})

test('CSS: pathological stylesheets and style attributes', () => {
  const size = 200_000
  const attacks = [fill('(', size), fill('{', size), fill('a{', size), fill('url(', size), fill('\\', size), fill('\\6', size), fill('/*', size), fill('"', size),
    fill('@media x{', size), fill('a{b:c;', size), fill('@\\69mport ', size), fill('u\\72l(', size), fill('[', size), fill(':not(', size), fill('a{b:c(', size)]
  watchdog(fill('td{color:#333;padding:4px 8px}', size), attacks, (s) => sanitizeStylesheet(s, () => {}))
  watchdog(fill('color:#333;padding:4px 8px;', size), attacks, (s) => sanitizeStyleAttribute(s, () => {}))
})

test('JSON body limits scanner', () => {
  const size = 1_000_000
  watchdog(fill('{"a":"b","c":[1,2,3]},', size), [fill('[', size), fill('{"a":', size), fill('"\\', size), fill('\\"', size), fill('"', size), `"${fill('a', size)}"`],
    (s) => checkJsonLimits(s))
})
