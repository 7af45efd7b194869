/**
 * The patterns the ReDoS lint made us rewrite outside validation/ keep their meaning:
 * each rewritten pattern, read from the source as it is now, is compared with the
 * original on generated inputs built from the characters that matter to it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import fc from 'fast-check'
import { collectRegexes } from './regex-collect.ts'
import { looksLikeEmail } from '../../src/users/accounts.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const files = ['src/app.ts', 'src/audit/redact.ts', 'src/oauth/clients/redirect-uris.ts', 'src/users/password-policy.ts']
const sites = collectRegexes(ROOT, files.map((f) => join(ROOT, f)))

/** The regex written in `file` whose source is `source` (the rewritten one), as a RegExp. */
function current(file: string, source: string): RegExp {
  const site = sites.find((s) => s.file === file && s.source === source)
  assert.ok(site, `${file} no longer has /${source}/: update this test with the pattern's new form`)
  return new RegExp(site.source, site.flags)
}

const strings = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 30 }).map((a) => a.join(''))
const RUNS = { numRuns: 3_000, seed: 12 }

test('trailing-slash strip (app.ts): same result', () => {
  const now = current('src/app.ts', '(?<!\\/)\\/+$')
  fc.assert(fc.property(strings(['/', 'a', ':', '\u0000']), (s) => s.replace(now, '') === s.replace(/\/+$/, '')), RUNS)
})

test('private-use redirect scheme (oauth): same verdict', () => {
  const now = current('src/oauth/clients/redirect-uris.ts', '^[a-z][a-z0-9+-]*\\.[a-z0-9+.-]+$')
  fc.assert(fc.property(strings(['a', 'z', '0', '.', '+', '-', 'A', ':']), (s) => now.test(s) === /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/.test(s)), RUNS)
})

test('password base-form strip (users): same result', () => {
  const now = current('src/users/password-policy.ts', '(?<![\\d\\W_])[\\d\\W_]+$')
  fc.assert(fc.property(strings(['a', 'Z', '1', '_', '!', ' ', 'é']), (s) => s.replace(now, '') === s.replace(/[\d\W_]+$/, '')), RUNS)
})

test('audit redaction: whatever the old patterns redacted, the new ones redact too', () => {
  const jwt = current('src/audit/redact.ts', '(?:(?<![\\w-])|(?<=%[0-9A-Fa-f]{2}))eyJ[\\w-]{8,}\\.[\\w-]{8,}\\.[\\w-]*')
  const email = current('src/audit/redact.ts', '(?<![^\\s@<>"\'])[^\\s@<>"\']+@[^\\s@<>"\']+\\.[^\\s@<>"\']{2,}')
  // A JWT starts a token (after a separator or a %XX escape); glued to letters (`tokeneyJ...`)
  // it is no longer found, the one difference, which the fragments here leave out on purpose.
  const body = fc.array(fc.constantFrom('abcdefgh', '-', '_1', 'x'.repeat(70)), { maxLength: 4 }).map((t) => t.join(''))
  const token = fc.tuple(fc.boolean(), body).map(([jwt, rest]) => (jwt ? 'eyJ' : '') + rest)
  const separator = fc.constantFrom('.', ' ', '=', ':', '"', '%20', 'Bearer ', '@', '<', "'", '.')
  const text = fc.array(fc.tuple(separator, token), { maxLength: 12 }).map((parts) => parts.flat().join(''))
  /** The character positions a global replace() with `re` rewrites. */
  const covered = (re: RegExp, s: string) => {
    const at = new Set<number>()
    for (const m of s.matchAll(re)) for (let i = m.index; i < m.index + m[0].length; i++) at.add(i)
    return at
  }
  const contains = (outer: Set<number>, inner: Set<number>) => [...inner].every((i) => outer.has(i))
  fc.assert(fc.property(text, (s) => {
    assert.ok(contains(covered(jwt, s), covered(/eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g, s)), s)
    assert.ok(contains(covered(email, s), covered(/[^\s@<>"']{1,64}@[^\s@<>"']+\.[^\s@<>"']{2,}/g, s)), s)
  }), RUNS)
})

test('account email check (users): the scan gives the verdict of the regex it replaced', () => {
  const old = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{2,}$/
  const RUNS_LONG = { numRuns: 3_000, seed: 12 }
  fc.assert(fc.property(strings(['a', '.', '@', ' ', '\t', 'b']), (s) => looksLikeEmail(s) === old.test(s)), RUNS)
  // Lengths around the 64 and 253 bounds.
  const sized = fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 260 }), fc.integer({ min: 0, max: 4 }), fc.boolean())
    .map(([l, d, t, dots]) => `${'a'.repeat(l)}@${dots ? 'a.'.repeat(d >> 1) : 'a'.repeat(d)}.${'b'.repeat(t)}`)
  fc.assert(fc.property(sized, (s) => looksLikeEmail(s) === old.test(s)), RUNS_LONG)
})
