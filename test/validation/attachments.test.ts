import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkAttachments, checkFilename } from '../../src/validation/attachments.ts'
import { AppError } from '../../src/core/errors.ts'
import { makeZip } from './zip-fixture.ts'

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64')
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)])
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n')
const DOCX = makeZip({ '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w:document/>' })
const OLE_HEADER = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])
const oleDoc = (...streams: string[]) => Buffer.concat([OLE_HEADER, Buffer.alloc(504), ...streams.map((s) => Buffer.from(s, 'utf16le'))])

function one(filename: string, content: Buffer | string, content_type?: string) {
  return checkAttachments([{ filename, content: typeof content === 'string' ? content : b64(content), content_type }])[0]
}
function refused(fn: () => unknown, reason: string, code = 'invalid_attachment') {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e))
    assert.equal(e.code, code)
    assert.equal((e as any).details.reason, reason)
    return true
  })
}

test('accepts ordinary files and infers or checks the content type', () => {
  const png = one('logo.png', PNG, 'image/png')
  assert.equal(png.contentType, 'image/png')
  assert.ok(png.content.equals(PNG))
  assert.equal(one('report.pdf', PDF).contentType, 'application/pdf')
  assert.equal(one('report.pdf', PDF, 'application/octet-stream').contentType, 'application/pdf')
  assert.equal(one('notes.txt', 'aGVsbG8gd29ybGQ=', 'text/plain; charset=utf-8').contentType, 'text/plain')
  assert.equal(one('letter.docx', DOCX).filename, 'letter.docx')
  assert.equal(one('old.doc', oleDoc('WordDocument')).contentType, 'application/msword')
  assert.equal(one('data.zip', makeZip({ 'a.txt': 'x', 'b.csv': 'y' })).contentType, 'application/zip')
  assert.equal(one('Fiche résumé.pdf', PDF).filename, 'Fiche résumé.pdf')
  assert.equal(checkAttachments([{ filename: 'i.png', content: b64(PNG), content_id: 'logo@x' }])[0].disposition, 'inline')
})

test('refuses executables whatever their name', () => {
  refused(() => one('invoice.pdf', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64)])), 'executable')
  refused(() => one('a.png', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(16)])), 'executable')
  refused(() => one('a.txt', Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(16)])), 'executable')
  refused(() => one('setup.exe', PNG), 'dangerous_extension')
  refused(() => one('invoice.pdf.exe', PDF), 'dangerous_extension')
  refused(() => one('tool.bin', PNG), 'dangerous_extension')
})

test('refuses scripts and active content', () => {
  refused(() => one('run.txt', b64('#!/bin/sh\nrm -rf /\n')), 'script')
  refused(() => one('page.txt', b64('<script>alert(1)</script>')), 'script')
  refused(() => one('x.js', b64('alert(1)')), 'dangerous_extension')
  refused(() => one('x.ps1', b64('Get-Item')), 'dangerous_extension')
  refused(() => one('x.html', b64('<p>hi</p>')), 'dangerous_extension')
  refused(() => one('x.svg', b64('<svg/>')), 'dangerous_extension')
  refused(() => one('evil.pdf', Buffer.from('%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>')), 'active_content')
  refused(() => one('evil.pdf', Buffer.from('%PDF-1.4\n<< /S /Launch /F (cmd.exe) >>')), 'active_content')
})

test('refuses macro-enabled Office documents', () => {
  refused(() => one('budget.xlsm', DOCX), 'dangerous_extension')
  refused(() => one('letter.docm', DOCX), 'dangerous_extension')
  const macro = makeZip({ '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w:document/>', 'word/vbaProject.bin': 'VBA' })
  refused(() => one('letter.docx', macro), 'macros')
  const activex = makeZip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<w/>', 'xl/activeX/activeX1.xml': '<a/>' })
  refused(() => one('sheet.xlsx', activex), 'macros')
  refused(() => one('old.doc', oleDoc('WordDocument', '_VBA_PROJECT')), 'macros')
  refused(() => one('old.xls', oleDoc('WordDocument')), 'type_mismatch')
})

test('refuses archives hiding dangerous files or nested archives, and forged central directories', () => {
  refused(() => one('photos.zip', makeZip({ 'a.jpg': 'x', 'readme.exe': 'MZ' })), 'dangerous_archive_entry')
  refused(() => one('photos.zip', makeZip({ 'inner.zip': 'PK' })), 'dangerous_archive_entry')
  refused(() => one('photos.zip', makeZip({ 'docs/report.docm': 'x' })), 'dangerous_archive_entry')
  // The central directory says .txt, the local header (what extractors use) says .exe.
  refused(() => one('photos.zip', makeZip({ 'run.exe': 'MZ' }, { centralNames: { 'run.exe': 'run.txt' } })), 'corrupt_archive')
  refused(() => one('photos.zip', Buffer.from('PK\x03\x04 truncated', 'latin1')), 'corrupt_archive')
})

test('the sniffed type must match the extension and the declared type', () => {
  refused(() => one('photo.png', PDF), 'type_mismatch')
  refused(() => one('photo.png', PNG, 'application/pdf'), 'type_mismatch')
  refused(() => one('letter.docx', makeZip({ 'a.txt': 'x' })), 'type_mismatch')
  refused(() => one('data.bin2', PNG), 'extension_not_allowed')
  refused(() => one('noext', PNG), 'extension_not_allowed')
})

test('base64 is decoded strictly', () => {
  refused(() => one('a.txt', 'aGVsbG8'), 'invalid_base64')
  refused(() => one('a.txt', 'aGVs bG8='), 'invalid_base64')
  refused(() => one('a.txt', 'aGVsbG8-'), 'invalid_base64')
  refused(() => one('a.txt', 'aGVsbG9='), 'invalid_base64') // non-canonical trailing bits
  refused(() => one('a.txt', ''), 'empty')
})

test('limits: per file, total and count (size checked before decoding)', () => {
  const limits = { maxCount: 2, maxFileBytes: 100, maxTotalBytes: 150 }
  const txt = (n: number) => ({ filename: 'a.txt', content: b64('x'.repeat(n)) })
  refused(() => checkAttachments([txt(101)], 'attachments', limits), 'too_large', 'payload_too_large')
  refused(() => checkAttachments([txt(80), txt(80)], 'attachments', limits), 'total_too_large', 'payload_too_large')
  refused(() => checkAttachments([txt(1), txt(1), txt(1)], 'attachments', limits), 'too_many')
  assert.equal(checkAttachments([txt(100), txt(50)], 'attachments', limits).length, 2)
})

test('filenames: no path separators, control, bidi or invisible characters', () => {
  for (const [name, reason] of [
    ['../../etc/passwd.txt', 'forbidden_characters'], ['C:\\x.txt', 'forbidden_characters'], ['a/b.txt', 'forbidden_characters'],
    ['a\r\nContent-Type: text/html.txt', 'control_characters'], ['a\u0000.txt', 'control_characters'],
    ['invoice\u202Etxt.exe', 'bidi_characters'], ['a\u200B.txt', 'invisible_characters'],
    ['.htaccess', 'bad_edges'], ['a.txt.', 'bad_edges'], ['a.txt ', 'bad_edges'],
    ['=?utf-8?q?a.exe?=', 'encoded_word'], ['x'.repeat(300) + '.txt', 'too_long'],
  ] as const) refused(() => checkFilename(name, 'attachments[0].filename'), reason)
})
