/**
 * Script in markup that a browser or viewer runs when the attachment is opened: an `.xml`
 * file is rendered as XHTML or SVG when its root says so, and any text attachment whose
 * content is markup may be sniffed as such. Refused, after decoding numeric character
 * references (`&#106;avascript:`) and whatever the namespace prefix (`<svg:script>`):
 * - script-running elements: script, foreignObject (embeds HTML in SVG), iframe, embed,
 *   object, handler/listener (SVG Tiny)
 * - event-handler attributes (on*)
 * - javascript: / vbscript: URLs (tabs and newlines inside the scheme ignored, as browsers do)
 * - XSL: an `<?xml-stylesheet?>` processing instruction or the XSLT namespace (a
 *   transform can emit any HTML, script included)
 * - `<!ENTITY` declarations (entity text is parsed as markup, so it can build any of the
 *   above; also the "billion laughs" expansion)
 * Linear: two passes of character-reference decoding, then substring and anchored tests.
 */

/**
 * Decodes `&#106;` and `&#x6a;` (the ';' optional, as HTML allows); other text stays as
 * written. A scanner rather than a replace() callback: a megabyte of `&#1` is 300,000
 * references, and a call per reference costs ten times the rest of the check.
 */
function digitValue(c: number, hex: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (!hex) return -1
  const lower = c | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

function decodeCharacterReferences(text: string): string {
  if (!text.includes('&#')) return text
  let out = ''
  let from = 0
  for (let at = text.indexOf('&#'); at >= 0; at = text.indexOf('&#', at + 1)) {
    const hex = text[at + 2] === 'x' || text[at + 2] === 'X'
    let i = at + (hex ? 3 : 2)
    let code = 0
    const start = i
    for (; i < text.length; i++) {
      const d = digitValue(text.charCodeAt(i), hex)
      if (d < 0) break
      code = Math.min(code * (hex ? 16 : 10) + d, 0x110000)
    }
    if (i === start) continue
    if (text[i] === ';') i++
    out += text.slice(from, at) + (code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd')
    from = i
    at = i - 1
  }
  return out + text.slice(from)
}

const ACTIVE_ELEMENT = /<(?:[a-z0-9_.-]+:)?(?:script|foreignobject|iframe|embed|object|handler|listener)(?=[\s/>])/
const EVENT_HANDLER = /[\s"'/]on[a-z]+\s*=/
const XSL_MARKERS = ['<?xml-stylesheet', 'http://www.w3.org/1999/xsl/transform']

export type MarkupProblem = 'script_element' | 'event_handler' | 'script_url' | 'xsl' | 'entity_declaration'

export function activeMarkupProblem(text: string): MarkupProblem | null {
  // Controls and line breaks become spaces: `<svg\nonload=` still separates its tokens.
  const spaced = decodeCharacterReferences(text).replace(/[\u0000-\u001f]/g, ' ').toLowerCase()
  if (ACTIVE_ELEMENT.test(spaced)) return 'script_element'
  if (EVENT_HANDLER.test(spaced)) return 'event_handler'
  const compact = spaced.replace(/\s+/g, '')
  if (compact.includes('javascript:') || compact.includes('vbscript:')) return 'script_url'
  if (XSL_MARKERS.some((m) => spaced.includes(m))) return 'xsl'
  if (spaced.includes('<!entity')) return 'entity_declaration'
  return null
}

/** True when a text attachment is markup: its first character after a BOM and whitespace is `<`. */
export function looksLikeMarkup(text: string): boolean {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') return c === '<'
  }
  return false
}
