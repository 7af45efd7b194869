#!/usr/bin/env node
/**
 * `node bench/sanitize-worst-case.ts [--unclosed-max=320000]`
 *
 * Measures (prints, asserts nothing) what sanitizeHtml costs on the inputs of issue 12,
 * for the worker-pool budget and the HTML size limits: unclosed `<b>` (super-linear in
 * sanitize-html: each open element stays on its stack), well-formed HTML up to HTML_MAX,
 * and <style> blocks at and over the per-message budget (css-tree re-serialising).
 * The unclosed series stops at --unclosed-max: the 5 MB unclosed case of the issue ran for
 * more than 15 minutes before this change and is not re-run here.
 */
import { parseArgs } from 'node:util'
import { sanitizeHtml, HTML_MAX, STYLE_TEXT_MAX } from '../src/validation/html.ts'

const { values } = parseArgs({ options: { 'unclosed-max': { type: 'string', default: '320000' } } })
const unclosedMax = Number(values['unclosed-max'])

function measure(label: string, html: string): void {
  const start = performance.now()
  const out = sanitizeHtml(html)
  const ms = performance.now() - start
  console.log(`${label.padEnd(44)} ${(html.length / 1e6).toFixed(2).padStart(6)} MB  ${ms.toFixed(0).padStart(7)} ms  (out ${(out.html.length / 1e6).toFixed(2)} MB)`)
}

const fillTo = (unit: string, length: number) => unit.repeat(Math.floor(length / unit.length))
const row = '<tr><td align="center" style="padding:4px 8px;color:#333">Cell <b>bold</b> <a href="https://x.example/a?b=1">link</a></td></tr>\n'
const css = 'td.c{color:#333;padding:4px 8px;background:url(https://cdn.example/bg.png)} @media (max-width:600px){td.c{display:block}}\n'

console.log(`node ${process.version}, HTML_MAX ${HTML_MAX} characters`)
for (let n = 10_000; n <= unclosedMax; n *= 2) measure(`"<b>" x ${n}`, '<b>'.repeat(n))
for (const mb of [0.5, 1, 2.5, 5]) {
  const size = Math.min(HTML_MAX, mb * 1024 * 1024)
  measure(`well-formed table HTML`, `<table>${fillTo(row, size - 20)}</table>`)
}
// Up to the <style> budget the CSS is parsed and re-serialised; past it the block is dropped unparsed.
measure(`<style> at the budget (${STYLE_TEXT_MAX / 1024} KB)`, `<style>${fillTo(css, STYLE_TEXT_MAX)}</style>`)
measure('<style> of 2.5 MB (over the budget)', `<style>${fillTo(css, 2.5 * 1024 * 1024)}</style>`)
measure('5 MB table HTML + <style> at the budget', `<style>${fillTo(css, STYLE_TEXT_MAX)}</style><table>${fillTo(row, HTML_MAX - STYLE_TEXT_MAX - 40)}</table>`)
