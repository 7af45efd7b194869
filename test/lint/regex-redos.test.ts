/**
 * ReDoS lint (issue 12, item 1): every regular expression in src/ (literals, `new RegExp`
 * with constant strings, `.match('...')`, JSON-schema `pattern`s) must be proven free of
 * super-linear backtracking by recheck (automaton analysis, or fuzzing with a fixed seed
 * where the automaton does not apply, e.g. lookbehind). A pattern recheck cannot clear is
 * a failure, not a warning. The two allow-lists below are the only way around it, each
 * entry with its reason; an entry that no longer matches a site fails too (no stale passes).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { check, type Diagnostics } from 'recheck'
import { collectRegexes, listSourceFiles, HOLE, type RegexSite } from './regex-collect.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const FIXTURES = join(import.meta.dirname, 'fixtures')

/**
 * Sites whose pattern is partly computed at run time (HOLE). The placeholder replaces each
 * hole, and the resulting pattern is still checked: the justification says why the computed
 * part is plain text that cannot add a quantifier.
 */
const DYNAMIC: Record<string, { placeholder: string; why: string }> = {
  'src/crypto/pkcs11-provider.ts|new RegExp(`^${this.#label.replace(/[.*+?^${}()|[\\]\\\\]/g, \'\\\\$&\')}-(\\\\d+)$`)': {
    placeholder: 'label', why: 'the configured key label with every regex metacharacter escaped: literal text',
  },
  'src/monitoring/routes.ts|pattern: `^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`': {
    placeholder: 'alr', why: 'prefix is an id prefix literal at every call site (id(\'alr\'), ...)',
  },
  'src/webhooks/schema.ts|pattern: ID(prefix)': {
    placeholder: '^whk_[0-9a-hjkmnp-tv-z]{26}$', why: 'PageQuery(prefix) is called with id prefix literals; ID() is evaluated at its other call site',
  },
}

/** Patterns recheck flags although they cannot be exploited where they run. */
const FLAGGED_BUT_SAFE: Record<string, string> = {
}

const keyOf = (s: RegexSite) => `${s.file}|${s.code}`

/**
 * A fixed seed, and 10 s instead of 1 s for the fuzzer's timed stages: with the defaults a
 * loaded machine (2 cores, several test runs) turned linear lookbehind patterns into
 * 'vulnerable'. Without any limit a vulnerable pattern's confirmation never ends. The
 * overall timeout only yields 'unknown', which fails.
 */
async function verdict(source: string, flags: string): Promise<Diagnostics> {
  return check(source, flags, {
    randomSeed: 12, timeout: 120_000, attackTimeout: 10_000, incubationTimeout: 10_000, recallTimeout: 10_000, seedingTimeout: 10_000,
  })
}

const sourceOf = (site: RegexSite) => site.dynamic ? site.source.replaceAll(HOLE, DYNAMIC[keyOf(site)]?.placeholder ?? HOLE) : site.source

/** One check per distinct pattern (ID patterns repeat across schemas), two at a time. */
async function checkAll(sites: RegexSite[]): Promise<{ site: RegexSite; diagnostics: Diagnostics }[]> {
  const distinct = [...new Set(sites.map((s) => `${s.flags}/${sourceOf(s)}`))]
  const verdicts = new Map<string, Diagnostics>()
  for (let i = 0; i < distinct.length; i += 2) {
    await Promise.all(distinct.slice(i, i + 2).map(async (key) => {
      const slash = key.indexOf('/')
      verdicts.set(key, await verdict(key.slice(slash + 1), key.slice(0, slash)))
    }))
  }
  return sites.map((site) => ({ site, diagnostics: verdicts.get(`${site.flags}/${sourceOf(site)}`)! }))
}

function describe(d: Diagnostics): string {
  if (d.status === 'vulnerable') return `${d.complexity.summary}, attack ${d.attack.pattern}`
  if (d.status === 'unknown') return `unknown (${d.error.kind})`
  return d.status
}

test('the collector finds every regex form and nothing else', () => {
  const sites = collectRegexes(ROOT, [join(FIXTURES, 'regex-forms.ts')])
  const found = sites.map((s) => `${s.kind} ${s.flags} ${s.source}${s.dynamic ? ' (dynamic)' : ''}`).sort()
  assert.deepEqual(found, [
    'constructor  ^called-x$',
    'constructor  ^lit-[0-9]+$!',
    'constructor  ^raw\\d$',
    'constructor  ^shared(?:\\.[a-z]+)*$',
    `constructor  ^${HOLE}-(\\d+)$ (dynamic)`,
    'constructor u ^[a-z]+(?:-[a-z]+)*$',
    'literal i ^lit-[0-9]+$',
    'schema-pattern u ^schema[0-9]{2}$',
    'schema-pattern u ^whk_[0-9]{4}$',
    'string-method  ^m(a|b)$',
  ].sort())
})

test('the lint flags the MSG_IDS that stalled the server (and a classic (a+)+)', { timeout: 300_000 }, async () => {
  const [old] = collectRegexes(ROOT, [join(FIXTURES, 'old-msg-ids.ts')])
  assert.equal((await verdict(old.source, old.flags)).status, 'vulnerable')
  assert.equal((await verdict('^(a+)+$', '')).status, 'vulnerable')
})

// Minutes on a loaded machine (a few patterns need the fuzzer): its own timeout, above the suite's.
test('every regex in src/ is free of super-linear backtracking', { timeout: 900_000 }, async () => {
  const sites = collectRegexes(ROOT, listSourceFiles(join(ROOT, 'src')))
  // The tree has well over a hundred; a collector that silently found nothing would pass.
  assert.ok(sites.length > 100, `only ${sites.length} regexes found`)

  const unjustified = sites.filter((s) => s.dynamic && !DYNAMIC[keyOf(s)]).map(keyOf)
  assert.deepEqual(unjustified, [], 'computed patterns need an entry in DYNAMIC (placeholder + why)')
  const keys = new Set(sites.map(keyOf))
  const stale = [...Object.keys(DYNAMIC), ...Object.keys(FLAGGED_BUT_SAFE)].filter((k) => !keys.has(k))
  assert.deepEqual(stale, [], 'allow-list entries that match no regex any more')

  const results = await checkAll(sites)
  const failures = results
    .filter(({ site, diagnostics }) => diagnostics.status !== 'safe' && !FLAGGED_BUT_SAFE[keyOf(site)])
    .map(({ site, diagnostics }) => `${site.file}:${site.line} ${site.code.slice(0, 120)} → ${describe(diagnostics)}`)
  assert.deepEqual(failures, [])
  // An allow-listed pattern that became safe should leave the list.
  const needless = results.filter(({ site, diagnostics }) => FLAGGED_BUT_SAFE[keyOf(site)] && diagnostics.status === 'safe').map(({ site }) => keyOf(site))
  assert.deepEqual(needless, [])
})
