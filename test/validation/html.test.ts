import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sanitizeHtml } from '../../src/validation/html.ts'

const removedNames = (html: string) => sanitizeHtml(html).removed.map((r) => `${r.kind}:${r.name}`)

test('keeps normal email HTML: tables, inline styles, images, links, style blocks', () => {
  const html = '<html><head><style>td{color:#333}</style></head><body><table width="600" cellpadding="0" style="border:0"><tr><td align="center" bgcolor="#fff"><img src="https://cdn.x.io/logo.png" alt="Logo" width="120"><img src="cid:logo@x"><a href="https://x.io/a?b=1">Link</a> <a href="mailto:a@x.io">mail</a></td></tr></table></body></html>'
  const r = sanitizeHtml(html)
  assert.deepEqual(r.removed, [])
  for (const kept of ['<table width="600" cellpadding="0" style="border:0">', 'src="https://cdn.x.io/logo.png"', 'src="cid:logo@x"', 'href="https://x.io/a?b=1"', '<style>td{color:#333}</style>']) {
    assert.ok(r.html.includes(kept), kept)
  }
})

test('removes scripts, event handlers and javascript: URLs and says so', () => {
  const r = sanitizeHtml('<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(1)">x</a><a href=" jav&#x09;ascript:alert(1)">y</a><img src="x" onerror="alert(1)">')
  assert.ok(!/script|onclick|onerror|javascript/i.test(r.html), r.html)
  assert.ok(r.html.includes('Hi'))
  assert.deepEqual(new Set(r.removed.map((x) => `${x.kind}:${x.name}`)), new Set(['attribute:on*', 'tag:script', 'url:javascript']))
  assert.equal(r.removed.find((x) => x.name === 'on*')!.count, 2)
})

test('removes forms, iframes, object/embed, meta refresh, base, svg and dangerous CSS', () => {
  const names = removedNames('<form action="https://evil"><input name="pw"><button>Go</button></form><iframe src="https://evil"></iframe><object data="x.swf"></object><embed src="x"><meta http-equiv="refresh" content="0;url=https://evil"><base href="https://evil/"><svg onload="alert(1)"></svg><div style="background:url(javascript:alert(1))">a</div><style>@import url(https://evil/x.css)</style><a href="data:text/html;base64,PHNjcmlwdD4=">d</a>')
  for (const n of ['tag:form', 'tag:input', 'tag:button', 'tag:iframe', 'tag:object', 'tag:embed', 'tag:meta', 'tag:base', 'tag:svg', 'css:unparsed value', 'css:@import', 'url:data']) {
    assert.ok(names.includes(n), `${n} in ${names}`)
  }
  const out = sanitizeHtml('<form><input></form><iframe src="x"></iframe><div style="width:expression(alert(1))">a</div>').html
  assert.equal(out, '<div>a</div>')
})

test('refuses non-strings and oversized HTML without echoing it', () => {
  assert.throws(() => sanitizeHtml(42), (e: any) => e.code === 'invalid_request')
  assert.throws(() => sanitizeHtml('a'.repeat(5 * 1024 * 1024 + 1)), (e: any) => e.code === 'payload_too_large' && !e.message.includes('aaaa'))
})
