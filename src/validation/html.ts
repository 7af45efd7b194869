/**
 * Message HTML through sanitize-html, allow-list style. Removed: scripts, event
 * handlers (on*), `javascript:`/`data:`/`vbscript:` URLs, forms and inputs,
 * iframes/frames, object/embed/applet, meta/base/link, SVG and MathML, dangerous CSS
 * (expression(), behavior, -moz-binding, javascript: and @import). Kept: what normal
 * email HTML uses: tables and their layout attributes, inline styles, <style> blocks,
 * images (http/https/cid), links (http/https/mailto/tel).
 * The caller gets `removed`, a short summary the API returns, so a sender knows why
 * the delivered HTML differs from what they sent.
 */
import sanitize from 'sanitize-html'
import { fieldError } from './text.ts'

export interface Removal {
  kind: 'tag' | 'attribute' | 'url' | 'css'
  /** Tag or attribute name, or URL scheme. */
  name: string
  count: number
}

export interface SanitizedHtml {
  html: string
  removed: Removal[]
}

export const HTML_MAX = 5 * 1024 * 1024

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
const DANGEROUS_CSS = /expression\s*\(|behavior\s*:|-moz-binding|javascript\s*:|vbscript\s*:|@import|url\s*\(\s*['"]?\s*data:/i

const allowedAttr = (tag: string, attr: string) =>
  (ATTRS[tag]?.includes(attr) ?? false) || GLOBAL_ATTRS.includes(attr) || attr.startsWith('aria-')

/** The scheme of a URL as a browser would read it (controls and whitespace ignored). */
function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u0020\u007f-\u009f]+/g, ''))
  return m ? m[1].toLowerCase() : null
}

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
  const out = sanitize(html, {
    allowedTags: TAGS,
    allowedAttributes: ATTRS,
    allowedSchemes: SCHEMES,
    allowedSchemesByTag: { img: ['http', 'https', 'cid'], source: ['http', 'https', 'cid'] },
    allowProtocolRelative: false,
    // <style> blocks are everyday email HTML; their text is checked by exclusiveFilter below.
    allowVulnerableTags: true,
    disallowedTagsMode: 'discard',
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'template', 'xmp', 'iframe', 'noembed', 'noframes', 'object', 'svg', 'math'],
    // Sees every tag with its raw attributes before filtering: records what will go.
    onOpenTag: (tag, attribs) => {
      if (!TAGS.includes(tag)) { note('tag', tag); return }
      for (const [a, v] of Object.entries(attribs)) {
        if (!allowedAttr(tag, a)) note('attribute', a.startsWith('on') ? 'on*' : a)
        else if (URL_ATTRS.has(a)) {
          const scheme = schemeOf(v)
          const ok = tag === 'img' || tag === 'source' ? ['http', 'https', 'cid'] : SCHEMES
          if (scheme && !ok.includes(scheme)) note('url', scheme)
          else if (!scheme && /^\s*\/\//.test(v)) note('url', 'protocol-relative')
        } else if (a === 'style' && DANGEROUS_CSS.test(v)) note('css', 'style attribute')
      }
    },
    transformTags: {
      '*': (tagName, attribs) => {
        if (attribs.style && DANGEROUS_CSS.test(attribs.style)) {
          const { style: _drop, ...rest } = attribs
          return { tagName, attribs: rest }
        }
        return { tagName, attribs }
      },
      a: (tagName, attribs) => (attribs.target ? { tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } } : { tagName, attribs }),
    },
    exclusiveFilter: (frame) => {
      if (frame.tag === 'style' && DANGEROUS_CSS.test(frame.text)) { note('css', 'style element'); return true }
      return false
    },
  })
  return { html: out, removed: [...counts.values()] }
}
