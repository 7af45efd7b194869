/**
 * CSS of message HTML (`<style>` blocks and `style` attributes), parsed with css-tree and
 * RE-SERIALISED from the tree: the raw text never survives, so what a browser reads is
 * exactly what was checked. Names are compared after decoding CSS escapes (`@\69mport`,
 * `exp\72ession`, `\62 ehavior`); comments are dropped by the parse, so `expre/**\/ssion(`
 * comes out as two tokens. Policy (allow-list where it matters):
 * - at-rules: only @media, @supports and @keyframes (their blocks sanitised in turn);
 *   @import, @font-face, @namespace, @charset and the rest are dropped: no remote
 *   stylesheet or font is ever loaded by the renderer
 * - url(): absolute http, https or cid only (the same as <img src>: a remote background
 *   image is no more than a remote image); relative, protocol-relative, javascript:,
 *   data: and every other scheme drop the declaration
 * - declarations dropped: behavior / -moz-binding (script bindings), expression(),
 *   URL-taking functions that bypass url() (image-set(), src(), element(), paint()),
 *   and any value css-tree could not parse (kept raw, it would be unchecked text); rules
 *   whose selector it could not parse go the same way
 * - `<` is written as the escape `\3c ` in the output, so no string or selector can
 *   close the <style> element (`</style><script>` inside a block stays CSS text)
 * Input that breaks the parser (nesting deep enough to overflow its stack) drops the
 * whole block. Cost: linear in the CSS (tokenise, one walk, one generate).
 */
import * as csstree from 'css-tree'

/** What was dropped, e.g. '@import', 'url(javascript)', 'behavior', 'expression()'. */
export type CssRemoval = (what: string) => void

const KEPT_AT_RULES = new Set(['media', 'supports', 'keyframes', '-webkit-keyframes'])
const FORBIDDEN_PROPERTIES = new Set(['behavior', '-ms-behavior', '-moz-binding', 'binding'])
const FORBIDDEN_FUNCTIONS = new Set(['expression', 'image-set', '-webkit-image-set', 'src', 'element', '-moz-element', 'paint', 'url', 'image'])
const URL_SCHEMES = new Set(['http', 'https', 'cid'])

/** The scheme of a URL as a browser would read it (controls and whitespace ignored); null when relative. */
export function urlScheme(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u0020\u007f-\u009f]+/g, ''))
  return m ? m[1].toLowerCase() : null
}

const decodeName = (name: string) => csstree.ident.decode(name).toLowerCase()

/** Why a declaration must go, or null to keep it. */
function declarationProblem(decl: csstree.Declaration): string | null {
  const property = decodeName(decl.property)
  if (FORBIDDEN_PROPERTIES.has(property)) return property
  let problem: string | null = null
  csstree.walk(decl.value, (node) => {
    if (problem) return
    if (node.type === 'Raw') problem = 'unparsed value'
    else if (node.type === 'Url') {
      const scheme = urlScheme(node.value)
      // Relative and protocol-relative (`//host/x`) alike: an email has no base URL to resolve them against.
      if (!scheme) problem = 'url(relative)'
      else if (!URL_SCHEMES.has(scheme)) problem = `url(${scheme})`
    } else if (node.type === 'Function' && FORBIDDEN_FUNCTIONS.has(decodeName(node.name))) problem = `${decodeName(node.name)}()`
  })
  return problem
}

/** Removes what the policy refuses, in place, from a block's children. */
function filterList(list: csstree.List<csstree.CssNode>, removed: CssRemoval): void {
  list.forEach((node, item) => {
    let problem: string | null = null
    if (node.type === 'Declaration') problem = declarationProblem(node)
    else if (node.type === 'Atrule') {
      const name = decodeName(node.name)
      if (!KEPT_AT_RULES.has(name)) problem = `@${name}`
      else if (node.block) filterList(node.block.children, removed)
    } else if (node.type === 'Rule') {
      // A selector css-tree could not parse is unchecked text: the rule goes.
      if (node.prelude.type === 'Raw') problem = 'unparsed selector'
      else filterList(node.block.children, removed)
    }
    else if (node.type === 'Raw') problem = 'unparsed rule'
    if (problem) {
      removed(problem)
      list.remove(item)
    }
  })
}

const noParseErrors = () => {}

/** `<` becomes the CSS escape `\3c ` (valid in strings, identifiers and selectors): nothing can close <style>. */
const neutraliseMarkup = (css: string) => css.replaceAll('<', '\\3c ')

function sanitize(css: string, context: 'stylesheet' | 'declarationList', removed: CssRemoval): string {
  try {
    const ast = csstree.parse(css, { context, parseCustomProperty: true, onParseError: noParseErrors })
    if (ast.type !== 'StyleSheet' && ast.type !== 'DeclarationList') return ''
    filterList(ast.children, removed)
    return neutraliseMarkup(csstree.generate(ast))
  } catch {
    // Only css-tree's own recursion limit lands here (e.g. 100,000 nested @media): drop it all.
    removed('unparseable css')
    return ''
  }
}

/** The text of a <style> element → safe, re-serialised stylesheet ('' when nothing is left). */
export function sanitizeStylesheet(css: string, removed: CssRemoval): string {
  return sanitize(css, 'stylesheet', removed)
}

/** A style="..." attribute value → safe, re-serialised declarations ('' when nothing is left). */
export function sanitizeStyleAttribute(css: string, removed: CssRemoval): string {
  return sanitize(css, 'declarationList', removed)
}
