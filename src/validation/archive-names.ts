/**
 * File names as the system that extracts or opens them will see them, before any
 * extension check. An extension check on the name as written is bypassed by names that
 * Windows, an unzip tool or a mail client turn into something else:
 * - `x.exe\0.txt`: C APIs stop at NUL → `x.exe`
 * - `payload.exe.`, `payload.exe  `: Win32 strips trailing dots and spaces → `payload.exe`
 * - `x.exe::$DATA`, `x.txt:evil.exe`: NTFS alternate data streams; every `:` part counts
 * - `payload\u2024exe`, `payload．ｅｘｅ`: look-alike dots and fullwidth letters (NFKC,
 *   plus the dots NFKC leaves alone) → `payload.exe` as a reader reads it
 * - zero-width and bidi characters dropped (`x.e\u200bxe`, `\u202e`-reversed names)
 * - `../`, `/etc/x`, `C:\x`, `a\b` (backslash is a separator to Windows): traversal
 */

/** Dots that NFKC does not turn into U+002E but a reader takes for one. */
const LOOKALIKE_DOTS = /[\u3002\uff61\u0701\u0702\ua60e\ua4f8\u2e3c\u06d4\u0589\u1362\u2e33\u00b7\u2027\u30fb\uff65]/g
const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g

export interface NormalisedName {
  /** The path segments as an extractor creates them (separators `/` and `\`). */
  segments: string[]
  /** Every name the last segment can stand for: the file, and each NTFS stream name. */
  candidates: string[]
  /** `..`, an absolute path or a drive letter: the archive writes outside its folder. */
  traversal: boolean
}

/** What remains of one name once NUL, look-alikes, invisibles and trailing dots/spaces are handled. */
export function canonicalName(raw: string): string {
  const nul = raw.indexOf('\0')
  const cut = nul >= 0 ? raw.slice(0, nul) : raw
  return trimTrailingDotsAndSpaces(cut.normalize('NFKC').replace(INVISIBLE, '').replace(LOOKALIKE_DOTS, '.')).toLowerCase()
}

/** Win32 path normalisation drops trailing dots and spaces (a loop, not a regex: `[. ]+$` backtracks). */
function trimTrailingDotsAndSpaces(s: string): string {
  let end = s.length
  while (end > 0 && (s[end - 1] === '.' || s[end - 1] === ' ')) end--
  return s.slice(0, end)
}

export function normaliseEntryName(raw: string): NormalisedName {
  const name = canonicalName(raw)
  const traversal = name.startsWith('/') || name.startsWith('\\') || /^[a-z]:/.test(name)
  const written = name.split(/[/\\]/)
  const segments = written.map(trimTrailingDotsAndSpaces)
  const last = segments.at(-1) ?? ''
  return {
    segments,
    candidates: [last, ...last.split(':')].map(trimTrailingDotsAndSpaces).filter(Boolean),
    // `..`, and what Windows reads as `..` (`.. `, `...`): only dots and spaces, two dots or more.
    traversal: traversal || written.some(isParentSegment),
  }
}

function isParentSegment(segment: string): boolean {
  let dots = 0
  for (const c of segment) {
    if (c === '.') dots++
    else if (c !== ' ') return false
  }
  return dots >= 2
}

/** The extension of a name ('exe' for `a.b.exe`), null when it has none. */
export function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf('.')
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null
}
