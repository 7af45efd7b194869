/**
 * Message HTML through sanitize-html, allow-list style. Removed: scripts, event
 * handlers (on*), `javascript:`/`data:`/`vbscript:` URLs, forms and inputs,
 * iframes/frames, object/embed/applet, meta/base/link (so no remote stylesheet), SVG
 * and MathML. Kept: what normal email HTML uses: tables and their layout attributes,
 * inline styles, <style> blocks, images (http/https/cid), links (http/https/mailto/tel).
 * CSS (<style> text and style attributes) is never kept as written: css.ts parses it,
 * drops what its policy refuses (@import, url() other than http/https/cid, expression(),
 * behavior, -moz-binding, ... after decoding CSS escapes) and re-serialises the rest.
 * The caller gets `removed`, a short summary the API returns, so a sender knows why
 * the delivered HTML differs from what they sent.
 */
import sanitize from 'sanitize-html'
import { fieldError } from './text.ts'
import { sanitizeStyleAttribute, sanitizeStylesheet, urlScheme } from './css.ts'

export interface Removal {
  kind: 'tag' | 'attribute' | 'url' | 'css'
  /** Tag or attribute name, URL scheme, or the CSS construct removed ('@import', 'url(javascript)'). */
  name: string
  count: number
}

export interface SanitizedHtml {
  html: string
  removed: Removal[]
}

export const HTML_MAX = 5 * 1024 * 1024
/**
 * <style> text per message, all blocks together; the blocks past it are dropped (and
 * reported). Gmail ignores a <style> over 16 KB, so 128 KB loses nothing real, and it
 * bounds the css-tree work (about 1 s per MB on an idle core) whatever the HTML size.
 */
export const STYLE_TEXT_MAX = 128 * 1024

const TAGS = [
  'html', 'head', 'body', 'title', 'style', 'div', 'span', 'p', 'br', 'hr', 'center', 'font',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'img', 'b', 'i', 'u', 's', 'strong', 'em', 'small', 'big',
  'sub', 'sup', 'strike', 'mark', 'code', 'pre', 'blockquote', 'q', 'cite', 'abbr', 'address',
  'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th',
  'caption', 'colgroup', 'col', 'section', 'article', 'header', 'footer', 'nav', 'main', 'figure',
  'figcaption', 'picture', 'source', 'wbr', 'time',
]
const GLOBAL_ATTRS = ['style', 'class', 'id', 'align', 'valign', 'dir', 'lang', 'title', 'width', 'height', 'bgcolor', 'role', 'aria-*']
const ATTRS: Record<string, string[]> = {
  '*': GLOBAL_ATTRS,
  a: ['href', 'name', 'target', 'rel'],
  img: ['src', 'srcset', 'alt', 'border', 'hspace', 'vspace', 'loading'],
  source: ['srcset', 'media', 'type'],
  table: ['border', 'cellpadding', 'cellspacing', 'background', 'summary'],
  td: ['colspan', 'rowspan', 'nowrap', 'background', 'scope'],
  th: ['colspan', 'rowspan', 'nowrap', 'background', 'scope'],
  col: ['span'], colgroup: ['span'], font: ['color', 'face', 'size'], ol: ['start', 'type'], time: ['datetime'],
  body: ['background', 'text', 'link', 'vlink', 'alink', 'leftmargin', 'topmargin', 'marginwidth', 'marginheight'],
}
const SCHEMES = ['http', 'https', 'mailto', 'tel']
const URL_ATTRS = new Set(['href', 'src', 'srcset', 'background', 'action', 'formaction', 'data', 'xlink:href', 'poster', 'cite', 'longdesc'])
/**
 * Marks each <style> element in sanitize-html's output with its index, so that its raw
 * text (which sanitize-html copies verbatim) can be swapped for the re-serialised CSS.
 * Only transformTags sets it: a sender's own attributes on <style> are replaced.
 */
const STYLE_SLOT = 'data-sealpost-style'

const allowedAttr = (tag: string, attr: string) =>
  (ATTRS[tag]?.includes(attr) ?? false) || GLOBAL_ATTRS.includes(attr) || attr.startsWith('aria-')

export function sanitizeHtml(html: unknown, field = 'html'): SanitizedHtml {
  if (typeof html !== 'string') throw fieldError('invalid_request', field, 'not_a_string', 'html must be a string.')
  if (html.length > HTML_MAX) throw fieldError('payload_too_large', field, 'too_long', `html is larger than ${HTML_MAX} characters.`, { maxLength: HTML_MAX })
  const counts = new Map<string, Removal>()
  const note = (kind: Removal['kind'], name: string) => {
    const key = `${kind}:${name}`
    const r = counts.get(key)
    if (r) r.count++
    else if (counts.size < 100) counts.set(key, { kind, name: name.slice(0, 40), count: 1 })
  }
  const sheets: string[] = []
  let styleBytes = 0
  // Email HTML repeats the same inline style on every cell: parse each distinct value once.
  const styleCache = new Map<string, { clean: string; removed: string[] }>()
  const styleAttribute = (style: string) => {
    let hit = styleCache.get(style)
    if (!hit) {
      const removed: string[] = []
      hit = { clean: sanitizeStyleAttribute(style, (what) => removed.push(what)), removed }
      styleCache.set(style, hit)
    }
    for (const what of hit.removed) note('css', what)
    return hit.clean
  }
  const out = sanitize(html, {
    allowedTags: TAGS,
    allowedAttributes: { ...ATTRS, style: [STYLE_SLOT] },
    allowedSchemes: SCHEMES,
    allowedSchemesByTag: { img: ['http', 'https', 'cid'], source: ['http', 'https', 'cid'] },
    allowProtocolRelative: false,
    // <style> blocks are everyday email HTML; their text is replaced by re-serialised CSS (below).
    allowVulnerableTags: true,
    disallowedTagsMode: 'discard',
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'template', 'xmp', 'iframe', 'noembed', 'noframes', 'object', 'svg', 'math'],
    // Sees every tag with its raw attributes before filtering: records what will go.
    onOpenTag: (tag, attribs) => {
      if (!TAGS.includes(tag)) { note('tag', tag); return }
      for (const [a, v] of Object.entries(attribs)) {
        if (!allowedAttr(tag, a)) note('attribute', a.startsWith('on') ? 'on*' : a)
        else if (URL_ATTRS.has(a)) {
          const scheme = urlScheme(v)
          const ok = tag === 'img' || tag === 'source' ? ['http', 'https', 'cid'] : SCHEMES
          if (scheme && !ok.includes(scheme)) note('url', scheme)
          else if (!scheme && /^\s*\/\//.test(v)) note('url', 'protocol-relative')
        }
      }
    },
    transformTags: {
      '*': (tagName, attribs) => {
        if (attribs.style == null) return { tagName, attribs }
        const { style, ...rest } = attribs
        const clean = styleAttribute(style)
        return { tagName, attribs: clean ? { ...rest, style: clean } : rest }
      },
      style: (tagName) => ({ tagName, attribs: { [STYLE_SLOT]: String(sheets.length++) } }),
      a: (tagName, attribs) => (attribs.target ? { tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } } : { tagName, attribs }),
    },
    // Runs when an element closes, with its whole text: the <style> text is sanitised here.
    exclusiveFilter: (frame) => {
      if (frame.tag !== 'style') return false
      styleBytes += frame.text.length
      if (styleBytes > STYLE_TEXT_MAX) note('css', 'style too large')
      else sheets[Number(frame.attribs[STYLE_SLOT])] = sanitizeStylesheet(frame.text, (what) => note('css', what))
      return false
    },
  })
  return { html: replaceStyleText(out, sheets), removed: [...counts.values()] }
}

/**
 * sanitize-html copies <style> text verbatim; put the re-serialised CSS in its place.
 * Safe to find by text: before the first marked <style> there is only escaped output, a
 * raw style text ends at the first `</style>` (the HTML parser closes the element there),
 * and the search resumes after it. Fails closed: a sheet that was not sanitised is dropped.
 */
function replaceStyleText(html: string, sheets: (string | undefined)[]): string {
  const marker = `<style ${STYLE_SLOT}="`
  let out = ''
  let at = 0
  for (;;) {
    const start = html.indexOf(marker, at)
    if (start < 0) return out + html.slice(at)
    const quote = html.indexOf('">', start + marker.length)
    const end = quote < 0 ? -1 : html.indexOf('</style>', quote)
    if (end < 0) return out + html.slice(at, start)
    const css = sheets[Number(html.slice(start + marker.length, quote))]
    out += html.slice(at, start) + (css ? `<style>${css}</style>` : '')
    at = end + '</style>'.length
  }
}
