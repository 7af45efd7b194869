/**
 * Attachments, allow-list style. Enforces:
 * - count, size per file and total size (checked from the base64 length before decoding)
 * - strict base64: standard alphabet, padded, canonical, no whitespace
 * - filename: no path separators, control, bidi or invisible characters, no
 *   Windows-reserved characters, no leading dot or trailing dot/space, an extension
 * - extension on the allow-list (known-dangerous ones get a specific refusal)
 * - magic bytes: executables (MZ, ELF, Mach-O, Java class, wasm) and scripts are
 *   refused whatever the name; the sniffed type must match the extension and the
 *   declared content type (application/octet-stream or none: inferred)
 * - the extension is read as Windows and extractors read it (archive-names.ts: NFKC,
 *   look-alike dots, invisibles); a name whose look-alikes change its extension is refused
 * - macros: vbaProject.bin / ActiveX in OOXML, _VBA_PROJECT in OLE2 documents
 * - PDFs: JavaScript, Launch, OpenAction, AA, EmbeddedFile, SubmitForm, RichMedia,
 *   ImportData... with name escapes decoded and FlateDecode object streams inflated
 *   under a budget (pdf-scan.ts); a PDF whose object streams cannot be scanned is refused
 * - ZIP archives: entries with dangerous extensions or nested archives are refused after
 *   normalising their names (NUL, trailing dots/spaces, NTFS streams, look-alikes), and
 *   so are entries that write outside the folder (`../`, absolute, drive letters).
 *   Names from the central directory, checked against local headers, plus Info-ZIP
 *   Unicode Path names; nothing inflated
 * - markup (XML, or any text attachment that starts with `<`): no script elements,
 *   event handlers, javascript: URLs, foreignObject, XSL or entity declarations
 *   (active-markup.ts); .html, .svg, .xsl and the other active types are refused by name
 */
import { checkHeaderText, fieldError } from './text.ts'
import { sniff, listZip, oleHasMacros, oleHasStream, type SniffedKind } from './file-sniff.ts'
import { scanPdf } from './pdf-scan.ts'
import { canonicalName, extensionOf, normaliseEntryName } from './archive-names.ts'
import { activeMarkupProblem, looksLikeMarkup } from './active-markup.ts'

export interface AttachmentInput {
  filename: string
  /** base64 */
  content: string
  content_type?: string
  content_id?: string
  disposition?: 'attachment' | 'inline'
}

export interface Attachment {
  filename: string
  content: Buffer
  contentType: string
  contentId?: string
  disposition: 'attachment' | 'inline'
  size: number
}

export interface AttachmentLimits {
  maxCount: number
  maxFileBytes: number
  maxTotalBytes: number
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = { maxCount: 20, maxFileBytes: 10 * 1024 * 1024, maxTotalBytes: 20 * 1024 * 1024 }

interface FileType { mime: string[]; kind: SniffedKind; check?: (b: Buffer) => string | null }

const OOXML_MACRO = /(^|\/)(vbaProject\.bin|vbaData\.xml)$|(^|\/)activeX\//i
const ooxml = (dir: string) => (b: Buffer) => {
  const { names, corrupt } = listZip(b)
  if (corrupt) return 'corrupt_archive'
  if (names.some((n) => OOXML_MACRO.test(n))) return 'macros'
  return names.includes('[Content_Types].xml') && names.some((n) => n.startsWith(`${dir}/`)) ? null : 'type_mismatch'
}
const odf = (b: Buffer) => {
  const { names, corrupt } = listZip(b)
  if (corrupt) return 'corrupt_archive'
  if (names.some((n) => /^Basic\/|^Scripts\//i.test(n))) return 'macros'
  return names.includes('mimetype') ? null : 'type_mismatch'
}
const ole = (stream: string) => (b: Buffer) => (oleHasMacros(b) ? 'macros' : oleHasStream(b, stream) ? null : 'type_mismatch')
const pdf = (b: Buffer) => scanPdf(b)
const zip = (b: Buffer) => {
  const { names, corrupt } = listZip(b)
  if (corrupt) return 'corrupt_archive'
  for (const raw of names) {
    const entry = normaliseEntryName(raw)
    if (entry.traversal) return 'unsafe_archive_path'
    for (const candidate of entry.candidates) {
      const ext = extensionOf(candidate)
      if (ext && (DANGEROUS.has(ext) || ARCHIVES.has(ext))) return 'dangerous_archive_entry'
    }
  }
  return null
}

const TYPES: Record<string, FileType> = {
  pdf: { mime: ['application/pdf'], kind: 'pdf', check: pdf },
  png: { mime: ['image/png'], kind: 'png' },
  jpg: { mime: ['image/jpeg'], kind: 'jpeg' },
  jpeg: { mime: ['image/jpeg'], kind: 'jpeg' },
  gif: { mime: ['image/gif'], kind: 'gif' },
  webp: { mime: ['image/webp'], kind: 'webp' },
  bmp: { mime: ['image/bmp'], kind: 'bmp' },
  tif: { mime: ['image/tiff'], kind: 'tiff' },
  tiff: { mime: ['image/tiff'], kind: 'tiff' },
  txt: { mime: ['text/plain'], kind: 'text' },
  log: { mime: ['text/plain'], kind: 'text' },
  md: { mime: ['text/markdown', 'text/plain'], kind: 'text' },
  csv: { mime: ['text/csv', 'text/plain'], kind: 'text' },
  ics: { mime: ['text/calendar'], kind: 'text' },
  vcf: { mime: ['text/vcard', 'text/x-vcard'], kind: 'text' },
  json: { mime: ['application/json'], kind: 'text' },
  xml: { mime: ['application/xml', 'text/xml'], kind: 'text' },
  zip: { mime: ['application/zip', 'application/x-zip-compressed'], kind: 'zip', check: zip },
  docx: { mime: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'], kind: 'zip', check: ooxml('word') },
  xlsx: { mime: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'], kind: 'zip', check: ooxml('xl') },
  pptx: { mime: ['application/vnd.openxmlformats-officedocument.presentationml.presentation'], kind: 'zip', check: ooxml('ppt') },
  odt: { mime: ['application/vnd.oasis.opendocument.text'], kind: 'zip', check: odf },
  ods: { mime: ['application/vnd.oasis.opendocument.spreadsheet'], kind: 'zip', check: odf },
  odp: { mime: ['application/vnd.oasis.opendocument.presentation'], kind: 'zip', check: odf },
  doc: { mime: ['application/msword'], kind: 'ole', check: ole('WordDocument') },
  xls: { mime: ['application/vnd.ms-excel'], kind: 'ole', check: ole('Workbook') },
  ppt: { mime: ['application/vnd.ms-powerpoint'], kind: 'ole', check: ole('PowerPoint Document') },
  mp3: { mime: ['audio/mpeg'], kind: 'mp3' },
  mp4: { mime: ['video/mp4', 'audio/mp4'], kind: 'mp4' },
  m4a: { mime: ['audio/mp4'], kind: 'mp4' },
  wav: { mime: ['audio/wav', 'audio/x-wav'], kind: 'wav' },
  ogg: { mime: ['audio/ogg'], kind: 'ogg' },
}

/** Refused with a specific reason (executables, scripts, macro-enabled Office, disk images). */
const DANGEROUS = new Set([
  'exe', 'com', 'bat', 'cmd', 'scr', 'pif', 'msi', 'msp', 'msc', 'dll', 'sys', 'cpl', 'ocx', 'drv', 'efi',
  'js', 'jse', 'mjs', 'vbs', 'vbe', 'wsf', 'wsh', 'wsc', 'ps1', 'psm1', 'psd1', 'ps1xml', 'hta', 'sct', 'jar', 'class',
  'lnk', 'url', 'scf', 'reg', 'inf', 'chm', 'hlp', 'gadget', 'application', 'appref-ms', 'vsto', 'msix', 'appx',
  'sh', 'bash', 'zsh', 'csh', 'ksh', 'command', 'app', 'pkg', 'dmg', 'deb', 'rpm', 'apk', 'ipa', 'elf', 'bin', 'run',
  'py', 'pyc', 'pl', 'rb', 'php', 'asp', 'aspx', 'jsp', 'cgi', 'html', 'htm', 'xhtml', 'svg', 'mht', 'mhtml', 'xht',
  'svgz', 'shtml', 'shtm', 'xsl', 'xslt', 'xbap',
  'docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'xlsb', 'xla', 'pptm', 'potm', 'ppam', 'ppsm', 'sldm', 'xll', 'wll', 'iqy', 'slk',
  'iso', 'img', 'vhd', 'vhdx', 'udf',
])
const ARCHIVES = new Set(['zip', 'rar', '7z', 'gz', 'tgz', 'tar', 'bz2', 'xz', 'cab', 'arj', 'lzh', 'ace', 'z', 'zipx', 'jar', 'iso', 'img'])

const FILENAME_FORBIDDEN = /[/\\:*?"<>|]/
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060-\u2064\ufeff]/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** XML, or any text that is markup: the content decides, not the extension. */
function markupCheck(ext: string | null, content: Buffer): string | null {
  const text = content.toString('utf8')
  return (ext === 'xml' || looksLikeMarkup(text)) && activeMarkupProblem(text) ? 'active_content' : null
}

const bad = (field: string, reason: string, message: string, extra: Record<string, unknown> = {}) =>
  fieldError('invalid_attachment', field, reason, message, extra)

export function checkFilename(input: unknown, field: string): string {
  const name = checkHeaderText('invalid_attachment', field, input, 255, 'The filename')
  if (Buffer.byteLength(name) > 255) throw bad(field, 'too_long', 'The filename is longer than 255 bytes.')
  if (FILENAME_FORBIDDEN.test(name)) throw bad(field, 'forbidden_characters', 'The filename must not contain path separators or any of : * ? " < > |.')
  if (INVISIBLE.test(name)) throw bad(field, 'invisible_characters', 'The filename must not contain zero-width or invisible characters.')
  if (name.startsWith('.') || /[. ]$/.test(name) || name.trim() !== name) throw bad(field, 'bad_edges', 'The filename must not start with a dot or end with a dot or space.')
  return name
}

function decodeBase64(content: unknown, field: string, maxBytes: number): Buffer {
  if (typeof content !== 'string') throw bad(field, 'not_a_string', 'content must be a base64 string.')
  if (content.length % 4 !== 0 || !BASE64.test(content)) throw bad(field, 'invalid_base64', 'content is not strict base64 (standard alphabet, padded, no whitespace).')
  const estimated = (content.length / 4) * 3 - (content.endsWith('==') ? 2 : content.endsWith('=') ? 1 : 0)
  if (estimated > maxBytes) throw fieldError('payload_too_large', field, 'too_large', `The attachment is larger than ${maxBytes} bytes.`, { maxBytes })
  const buf = Buffer.from(content, 'base64')
  if (buf.toString('base64') !== content) throw bad(field, 'invalid_base64', 'content is not canonical base64.')
  if (buf.length === 0) throw bad(field, 'empty', 'The attachment is empty.')
  return buf
}

function checkOne(input: AttachmentInput, field: string, limits: AttachmentLimits): Attachment {
  if (!input || typeof input !== 'object') throw bad(field, 'not_an_object', 'Each attachment must be { filename, content, content_type }.')
  const filename = checkFilename(input.filename, `${field}.filename`)
  const ext = extensionOf(filename)
  if (ext && DANGEROUS.has(ext)) throw bad(`${field}.filename`, 'dangerous_extension', `.${ext} files (executables, scripts, macro-enabled documents) are not accepted.`)
  // `invoice.pdf\u2024exe`, `report.ｅｘｅ`: what the recipient reads is the canonical name.
  const readAs = extensionOf(canonicalName(filename))
  if (readAs && DANGEROUS.has(readAs)) throw bad(`${field}.filename`, 'dangerous_extension', `.${readAs} files (executables, scripts, macro-enabled documents) are not accepted.`)
  if (readAs !== ext) throw bad(`${field}.filename`, 'lookalike_characters', 'The filename uses look-alike characters (dots, fullwidth letters) that change how its extension reads.')
  const type = ext ? TYPES[ext] : undefined
  if (!type) throw bad(`${field}.filename`, 'extension_not_allowed', 'This file extension is not on the allow-list.', { allowed: Object.keys(TYPES) })
  const declared = input.content_type == null ? '' : checkHeaderText('invalid_attachment', `${field}.content_type`, input.content_type, 200, 'The content type').split(';')[0].trim().toLowerCase()
  if (declared && declared !== 'application/octet-stream' && !type.mime.includes(declared)) {
    throw bad(`${field}.content_type`, 'type_mismatch', `The content type does not match the .${ext} extension.`, { expected: type.mime })
  }
  const content = decodeBase64(input.content, `${field}.content`, limits.maxFileBytes)
  const kind = sniff(content)
  if (kind === 'executable') throw bad(`${field}.content`, 'executable', 'Executable files are not accepted.')
  if (kind === 'script') throw bad(`${field}.content`, 'script', 'Scripts and active content (HTML, SVG) are not accepted.')
  if (kind !== type.kind) throw bad(`${field}.content`, 'type_mismatch', `The file content is not a .${ext} file.`)
  const problem = type.check?.(content) ?? (kind === 'text' ? markupCheck(ext, content) : null)
  if (problem === 'macros') throw bad(`${field}.content`, 'macros', 'Documents containing macros or ActiveX controls are not accepted.')
  if (problem === 'active_content') throw bad(`${field}.content`, 'active_content', 'Files with active content (PDF JavaScript, actions or embedded files; scripts, event handlers or XSL in markup) are not accepted.')
  if (problem === 'unscannable_content') throw bad(`${field}.content`, 'unscannable_content', 'The PDF has object streams that cannot be scanned (unsupported filter, encryption, damage or too large).')
  if (problem === 'dangerous_archive_entry') throw bad(`${field}.content`, 'dangerous_archive_entry', 'The archive contains an executable, script, macro document or nested archive.')
  if (problem === 'unsafe_archive_path') throw bad(`${field}.content`, 'unsafe_archive_path', 'The archive contains an entry that would be written outside its folder (../, absolute path or drive letter).')
  if (problem) throw bad(`${field}.content`, problem, `The file content is not a valid .${ext} file.`)
  let contentId: string | undefined
  if (input.content_id != null) {
    contentId = checkHeaderText('invalid_attachment', `${field}.content_id`, input.content_id, 100, 'content_id')
    if (!/^[A-Za-z0-9._@-]+$/.test(contentId)) throw bad(`${field}.content_id`, 'invalid_content_id', 'content_id may contain only letters, digits and . _ @ -.')
  }
  const disposition = input.disposition ?? (contentId ? 'inline' : 'attachment')
  if (disposition !== 'attachment' && disposition !== 'inline') throw bad(`${field}.disposition`, 'invalid_disposition', 'disposition must be attachment or inline.')
  return { filename, content, contentType: type.mime[0] === declared || !declared || declared === 'application/octet-stream' ? type.mime[0] : declared, contentId, disposition, size: content.length }
}

/** Validates and decodes every attachment; throws on the first problem, naming `attachments[i].field`. */
export function checkAttachments(input: unknown, field = 'attachments', limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS): Attachment[] {
  if (input == null) return []
  if (!Array.isArray(input)) throw bad(field, 'not_an_array', 'attachments must be an array.')
  if (input.length > limits.maxCount) throw bad(field, 'too_many', `At most ${limits.maxCount} attachments are allowed.`, { max: limits.maxCount })
  let total = 0
  const out: Attachment[] = []
  input.forEach((a, i) => {
    const att = checkOne(a, `${field}[${i}]`, limits)
    total += att.size
    if (total > limits.maxTotalBytes) throw fieldError('payload_too_large', field, 'total_too_large', `Attachments exceed ${limits.maxTotalBytes} bytes in total.`, { maxTotalBytes: limits.maxTotalBytes })
    out.push(att)
  })
  return out
}
