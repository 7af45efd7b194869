/**
 * Active content in a PDF, as a PDF reader would see it. One linear pass of a small PDF
 * lexer (PDF 1.7 §7.2-7.3: comments, literal and hex strings, dictionaries, names,
 * `stream` ... `endstream`), plus the object streams (/Type /ObjStm, where modern
 * writers put every dictionary) inflated under a hard output budget and lexed the same way.
 * - Names are compared after decoding `#xx` escapes (§7.3.5): `/J#61vaScript` is
 *   `/JavaScript` to every reader. Names inside strings, comments and stream data are not
 *   names, so binary data does not trip the check.
 * - Refused names: JavaScript, JS, Launch, AA (additional actions), EmbeddedFile(s),
 *   SubmitForm, ImportData, RichMedia*, XFA (forms that carry scripts), GoToE (jumps into
 *   an embedded file), and OpenAction unless its value is a plain destination array
 *   (`/OpenAction [3 0 R /Fit]`, which only picks the page to open at).
 * - An object stream that cannot be scanned (a filter other than FlateDecode, predictors,
 *   encryption, damage, output over budget, too many of them) makes the PDF
 *   unscannable: refused too, since what it hides is exactly what the check is for.
 * - Bytes after a stream's direct /Length and before its `endstream` are lexed as objects
 *   (a reader that trusts /Length parses them).
 * Budget: all inflated output together stays under min(10 x the file, 50 MB), at most
 * 1,000 object streams.
 */
import { inflateSync } from 'node:zlib'

export type PdfProblem = 'active_content' | 'unscannable_content' | null

export interface PdfScanLimits { maxInflateRatio: number; maxInflatedBytes: number; maxObjectStreams: number }

export const PDF_SCAN_LIMITS: Readonly<PdfScanLimits> = { maxInflateRatio: 10, maxInflatedBytes: 50 * 1024 * 1024, maxObjectStreams: 1_000 }

const ACTIVE_NAMES = new Set([
  'JavaScript', 'JS', 'Launch', 'AA', 'EmbeddedFile', 'EmbeddedFiles', 'SubmitForm', 'ImportData',
  'RichMedia', 'RichMediaContent', 'RichMediaExecute', 'XFA', 'GoToE',
])

const isWhite = (c: number) => c === 0x00 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20
/** Whitespace or a delimiter (§7.2.2-7.2.3): ends a name or a keyword. */
const isEnd = (c: number) => isWhite(c) || c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25
const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1)
const PERCENT = 0x25, OPEN_PAREN = 0x28, CLOSE_PAREN = 0x29, BACKSLASH = 0x5c, LT = 0x3c, GT = 0x3e, SLASH = 0x2f, HASH = 0x23, OPEN_BRACKET = 0x5b, CR = 0x0d, LF = 0x0a

const ENDSTREAM = Buffer.from('endstream')

class Scan {
  budget: number
  objectStreams = 0
  readonly limits: Readonly<PdfScanLimits>
  constructor(size: number, limits: Readonly<PdfScanLimits>) {
    this.limits = limits
    this.budget = Math.min(limits.maxInflatedBytes, size * limits.maxInflateRatio)
  }

  /** Lexes b[from, to); `nested` for the content of an object stream (no streams of its own). */
  lex(b: Buffer, from: number, to: number, nested: boolean): PdfProblem {
    let depth = 0
    let dict: string[] = []
    let lastDict: string[] | null = null
    let lastDictLength: number | null = null
    let length: number | null = null
    let pendingOpenAction = false
    for (let i = from; i < to;) {
      const c = b[i]
      if (pendingOpenAction && !isWhite(c) && c !== PERCENT) {
        if (c !== OPEN_BRACKET) return 'active_content'
        pendingOpenAction = false
      }
      if (c === PERCENT) { while (i < to && b[i] !== CR && b[i] !== LF) i++; continue }
      if (c === OPEN_PAREN) { i = skipLiteralString(b, i, to); lastDict = null; continue }
      if (c === LT && b[i + 1] === LT) { if (depth++ === 0) { dict = []; length = null } i += 2; lastDict = null; continue }
      if (c === LT) { while (i < to && b[i] !== GT) i++; i++; lastDict = null; continue }
      if (c === GT && b[i + 1] === GT) {
        if (depth > 0 && --depth === 0) { lastDict = dict; lastDictLength = length; length = null }
        i += 2
        continue
      }
      if (c === SLASH) {
        let name = ''
        let j = i + 1
        for (; j < to && !isEnd(b[j]); j++) {
          const hi = b[j] === HASH && j + 2 < to ? hexValue(b[j + 1]) : -1
          const lo = hi >= 0 ? hexValue(b[j + 2]) : -1
          if (lo >= 0) { name += String.fromCharCode(hi * 16 + lo); j += 2 } else name += String.fromCharCode(b[j])
        }
        if (ACTIVE_NAMES.has(name)) return 'active_content'
        if (name === 'OpenAction') pendingOpenAction = true
        if (name === 'Length' && depth === 1) length = directLength(b, j, to)
        if (depth > 0) dict.push(name)
        i = j
        lastDict = null
        continue
      }
      if (isEnd(c)) { i++; continue }
      // A keyword or a number.
      let j = i
      while (j < to && !isEnd(b[j])) j++
      const isStream = j - i === 6 && b.toString('latin1', i, j) === 'stream'
      if (isStream && lastDict && !nested) {
        const problem = this.stream(b, j, to, lastDict, lastDictLength)
        if (typeof problem === 'string') return problem
        i = problem
      } else i = j
      lastDict = null
    }
    return pendingOpenAction ? 'active_content' : null
  }

  /** Handles one stream whose keyword ends at `keywordEnd`; returns where lexing resumes, or a problem. */
  stream(b: Buffer, keywordEnd: number, to: number, dict: string[], length: number | null): number | Exclude<PdfProblem, null> {
    let start = keywordEnd
    if (b[start] === CR) start++
    if (b[start] === LF) start++
    const end = b.indexOf(ENDSTREAM, start)
    if (end < 0 || end > to) return to
    if (length !== null && start + length < end) {
      // What a /Length-trusting reader parses as objects after the data.
      const tail = this.lex(b, Math.min(start + length, end), end, true)
      if (tail) return tail
    }
    if (dict.includes('ObjStm')) {
      if (++this.objectStreams > this.limits.maxObjectStreams) return 'unscannable_content'
      const filters = dict.filter((n) => n.endsWith('Decode') || n === 'Fl')
      if (filters.length !== 1 || (filters[0] !== 'FlateDecode' && filters[0] !== 'Fl') || dict.includes('DecodeParms')) return 'unscannable_content'
      if (this.budget <= 0) return 'unscannable_content'
      let inflated: Buffer
      try {
        inflated = inflateSync(b.subarray(start, end), { maxOutputLength: this.budget })
      } catch {
        // Damaged, encrypted (the data is ciphertext) or over budget.
        return 'unscannable_content'
      }
      this.budget -= inflated.length
      const problem = this.lex(inflated, 0, inflated.length, true)
      if (problem) return problem
    }
    return end + ENDSTREAM.length
  }
}

/** After `(` at `at`: balanced parentheses, backslash escapes (§7.3.4.2). Returns the index after `)`. */
function skipLiteralString(b: Buffer, at: number, to: number): number {
  let depth = 0
  for (let i = at; i < to; i++) {
    const c = b[i]
    if (c === BACKSLASH) i++
    else if (c === OPEN_PAREN) depth++
    else if (c === CLOSE_PAREN && --depth === 0) return i + 1
  }
  return to
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39

/** After a /Length name ending at `at`: its value if it is a direct integer (`/Length 123`), null for `12 0 R`. */
function directLength(b: Buffer, at: number, to: number): number | null {
  const number = (from: number) => {
    let i = from
    while (i < to && isWhite(b[i])) i++
    const start = i
    while (i < to && i - start < 12 && isDigit(b[i])) i++
    return { start, end: i }
  }
  const first = number(at)
  if (first.end === first.start || first.end - first.start > 10) return null
  const second = number(first.end)
  let k = second.end
  while (k < to && isWhite(b[k])) k++
  if (second.end > second.start && b[k] === 0x52 /* R */) return null
  return Number(b.toString('latin1', first.start, first.end))
}

export function scanPdf(b: Buffer, limits: Readonly<PdfScanLimits> = PDF_SCAN_LIMITS): PdfProblem {
  return new Scan(b.length, limits).lex(b, 0, b.length, false)
}
