/**
 * CSS in message HTML (issue 12, item 5): escapes are decoded before the policy applies,
 * remote stylesheets never survive, and <style> text is re-serialised so no markup can
 * come out of it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sanitizeHtml, STYLE_TEXT_MAX } from '../../src/validation/html.ts'
import { sanitizeStylesheet } from '../../src/validation/css.ts'
import * as csstree from 'css-tree'

const clean = (html: string) => sanitizeHtml(html).html
const removed = (html: string) => sanitizeHtml(html).removed.map((r) => `${r.kind}:${r.name}`)

/** The CSS a browser would read: escapes decoded (CSS Syntax §4.3.7), lower-cased, no whitespace. */
function decoded(css: string): string {
  return css
    .replace(/\\([0-9a-f]{1,6})[ \t\n]?/gi, (_, hex: string) => String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff) || 0xfffd))
    .replace(/\\(.)/g, '$1')
    .replace(/\s+/g, '')
    .toLowerCase()
}
const styles = (html: string) => [...html.matchAll(/<style>([^<]*)<\/style>|style="([^"]*)"/g)].map((m) => m[1] ?? m[2])

test('the CSS bypasses of the issue are removed, in <style> and in style attributes', () => {
  const cases: [string, string][] = [
    ['<style>@\\69mport url(https://evil.example/x.css);p{color:red}</style>', 'css:@import'],
    ['<style>@\\000069 mport "https://evil.example/x.css";p{color:red}</style>', 'css:@import'],
    ['<style>@\\i\\m\\p\\o\\r\\t "https://evil.example/x.css";p{color:red}</style>', 'css:@import'],
    ['<style>@IMPORT "https://evil.example/x.css";p{color:red}</style>', 'css:@import'],
    ['<style>p{color:red;background:url("j\\61 vascript:alert(1)")}</style>', 'css:url(javascript)'],
    ['<p style="color:red;background:url(&quot;j\\61vascript:alert(1)&quot;)">x</p>', 'css:url(javascript)'],
    ['<p style="color:red;background:url(\'vbscript:msgbox(1)\')">x</p>', 'css:url(vbscript)'],
    ['<p style="color:red;background:url(data:image/svg+xml;base64,PHN2Zz4=)">x</p>', 'css:url(data)'],
    ['<p style="color:red;width:exp\\72 ession(alert(1))">x</p>', 'css:expression()'],
    ['<p style="color:red;width:EXPRESSION(alert(1))">x</p>', 'css:expression()'],
    ['<p style="color:red;\\62 ehavior:url(https://x.example/x.htc)">x</p>', 'css:behavior'],
    ['<style>p{color:red;-moz-b\\69 nding:url(https://x.example/x.xml#x)}</style>', 'css:-moz-binding'],
    ['<style>p{color:red;background:u\\72 l("https://x.example/a.png")}</style>', 'css:url()'],
    ['<style>p{color:red;background:image-set("javascript:alert(1)" 1x)}</style>', 'css:image-set()'],
    ['<style>p{color:red;background:url(j\\61vascript:alert(1))}</style>', 'css:unparsed value'],
  ]
  for (const [html, why] of cases) {
    const r = sanitizeHtml(html)
    assert.ok(r.removed.some((x) => `${x.kind}:${x.name}` === why), `${html}: ${JSON.stringify(r.removed)}`)
    for (const css of styles(r.html)) {
      assert.doesNotMatch(decoded(css), /@import|javascript:|vbscript:|expression\(|behavior|binding|data:|evil/, html)
    }
    // What was fine next to the attack is kept.
    assert.match(r.html, /color:red/, html)
  }
})

test('comments inside a token do not glue it back together', () => {
  const out = clean('<p style="width:expre/**/ssion(alert(1));color:red">x</p><style>p{x:expre/**/ssion(1)}</style>')
  assert.doesNotMatch(out, /expression|\/\*/i)
})

test('remote stylesheets never survive: <link>, @import, @font-face', () => {
  const r = sanitizeHtml('<link rel="stylesheet" href="https://evil.example/a.css"><style>@import url(https://evil.example/b.css);@font-face{font-family:x;src:url(https://evil.example/f.woff)}p{color:red}</style><p>x</p>')
  assert.equal(r.html, '<style>p{color:red}</style><p>x</p>')
  assert.deepEqual(new Set(removed('<link rel="stylesheet" href="https://evil.example/a.css"><style>@import "b.css";@font-face{src:url(https://e/f)}</style>')),
    new Set(['tag:link', 'css:@import', 'css:@font-face']))
})

test('</style><script> inside a style block cannot become markup', () => {
  for (const html of [
    '<style>p{content:"\\3c/style><script>alert(1)</script>"}</style>',
    '<style>p{content:"\\3c /style>\\3c img src=x onerror=alert(1)>"}</style>',
    '<style>p[title="</style><script>alert(1)</script>"]{color:red}</style>',
    '<style>a{color:red}<style data-sealpost-style="1">x{y:z}</style><style>@import "q.css";</style>',
    '<style data-sealpost-style="0">@import "q.css";</style>',
  ]) {
    const out = clean(html)
    assert.doesNotMatch(out, /<script|<img|@import/i, out)
    // Every "<" inside a style element is the re-serialiser's escape, never a raw one.
    const opened = out.split('<style>').length - 1
    assert.equal(out.split('</style>').length - 1, opened, out)
    for (const css of styles(out)) assert.ok(!css.includes('<'), css)
  }
})

test('url(): absolute http, https and cid kept; every other form dropped', () => {
  assert.equal(clean('<p style="background:url(https://cdn.example/a.png)">x</p>'), '<p style="background:url(https://cdn.example/a.png)">x</p>')
  assert.equal(clean('<style>td{background:url("cid:bg@x")}</style>'), '<style>td{background:url(cid:bg@x)}</style>')
  for (const u of ['//evil.example/x.png', '/x.png', 'x.png', 'file:///etc/passwd', ' javascript:alert(1)', 'java\\9 script:alert(1)']) {
    const out = clean(`<p style="background:url('${u}');color:red">x</p>`)
    assert.equal(out, '<p style="color:red">x</p>', u)
  }
})

test('a repeated inline style is reported for each element it was removed from', () => {
  const r = sanitizeHtml('<p style="color:red;background:url(javascript:x)">a</p><p style="color:red;background:url(javascript:x)">b</p>')
  assert.equal(r.html, '<p style="color:red">a</p><p style="color:red">b</p>')
  assert.deepEqual(r.removed, [{ kind: 'css', name: 'url(javascript)', count: 2 }])
})

test('<style> text past the per-message budget is dropped and reported', () => {
  const block = `p{color:red}${' '.repeat(STYLE_TEXT_MAX / 2 - 20)}`
  const r = sanitizeHtml(`<style>${block}</style><style>${block}</style><style>${block}</style><p>x</p>`)
  assert.equal(r.html, '<style>p{color:red}</style><style>p{color:red}</style><p>x</p>')
  assert.deepEqual(r.removed, [{ kind: 'css', name: 'style too large', count: 1 }])
})

test('@media, @supports and @keyframes are kept and their blocks sanitised', () => {
  assert.equal(clean('<style>@media (max-width:600px){td{color:blue;background:url(javascript:x)}}@supports (display:grid){p{display:grid}}</style>'),
    '<style>@media (max-width:600px){td{color:blue}}@supports (display:grid){p{display:grid}}</style>')
})

test('CSS that breaks the parser is dropped, not a crash', () => {
  const deep = '@media x{'.repeat(Math.floor(STYLE_TEXT_MAX / 9))
  const r = sanitizeHtml(`<style>${deep}</style><p>ok</p>`)
  assert.equal(r.html, '<p>ok</p>')
  assert.ok(r.removed.some((x) => x.name === 'unparseable css'), JSON.stringify(r.removed))
  const removedNames: string[] = []
  assert.equal(sanitizeStylesheet('@media x{'.repeat(100_000), (what) => removedNames.push(what)), '')
  assert.ok(removedNames.includes('unparseable css'))
  assert.equal(sanitizeStylesheet('a{b:' + '('.repeat(100_000), () => {}).includes('<'), false)
})

test('generated CSS from attack fragments never yields markup or a refused construct', () => {
  const fragment = fc.constantFrom(
    '@import "x";', '@\\69mport "x";', '@\\69 mport url(x);', 'url(', 'u\\72 l(', 'url("', 'javascript:', 'j\\61 vascript:', '\\6a avascript:',
    'expression(', 'exp\\72 ession(', 'behavior:', '\\62 ehavior:', '-moz-binding:', '</style>', '</style><script>alert(1)</script>',
    '\\3c/style>', '<', '"', "'", '/*', '*/', '{', '}', ';', ':', '(', ')', 'p', 'a{', 'color:red', ' ', '\\', '\\0', '@media x{', 'image-set(',
  )
  fc.assert(fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
    const css = parts.join('')
    const out = sanitizeStylesheet(css, () => {})
    assert.ok(!out.includes('<'), out)
    // A fixed point: sanitising the output again removes nothing.
    const again: string[] = []
    assert.equal(sanitizeStylesheet(out, (what) => again.push(what)), out)
    assert.deepEqual(again, [], `${css} → ${out}`)
    // Each kept construct, names decoded as a browser decodes them.
    csstree.walk(csstree.parse(out, { parseCustomProperty: true }), (node) => {
      if (node.type === 'Atrule') assert.match(csstree.ident.decode(node.name), /^(media|supports|keyframes|-webkit-keyframes)$/i, `${css} → ${out}`)
      if (node.type === 'Url') assert.match(node.value, /^(https?|cid):/i, `${css} → ${out}`)
      if (node.type === 'Declaration') assert.doesNotMatch(csstree.ident.decode(node.property), /^(behavior|-moz-binding)$/i, `${css} → ${out}`)
      if (node.type === 'Function') assert.doesNotMatch(csstree.ident.decode(node.name), /^(expression|url|image-set|src)$/i, `${css} → ${out}`)
      assert.notEqual(node.type, 'Raw', `${css} → ${out}`)
    })
  }), { numRuns: 2_000, seed: 12 })
})
