/**
 * Finds every regular expression in the source tree with the TypeScript parser (no
 * text search: a regex inside a string or a comment is not one, and a string passed
 * to `new RegExp` is): RegExp literals, `new RegExp(x, f)` / `RegExp(x, f)`,
 * `.match(s)` / `.matchAll(s)` / `.search(s)` with a string argument (the string
 * becomes a RegExp), and `pattern:` properties (JSON-schema patterns, which ajv
 * compiles with the `u` flag and runs on request input).
 *
 * String arguments are evaluated as constants: literals, templates, `+`, `as const`,
 * String.raw, `re.source`, and identifiers bound by a `const` in the same file or
 * imported from another file of the tree. What cannot be evaluated (a function
 * parameter, a call) becomes a HOLE in the pattern and the site is reported as
 * dynamic: the lint test then demands a justification for it.
 */
import * as ts from 'typescript/unstable/ast'
import { API } from 'typescript/unstable/sync'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

export const HOLE = '\u0000'

export interface RegexSite {
  /** Path relative to the repository root, e.g. src/validation/headers.ts. */
  file: string
  line: number
  kind: 'literal' | 'constructor' | 'string-method' | 'schema-pattern'
  source: string
  flags: string
  /** True when part of the pattern could not be evaluated (it contains HOLE). */
  dynamic: boolean
  /** The expression as written, for messages and allow-list keys. */
  code: string
}

type Value = { text: string; dynamic: boolean; regex?: boolean }

interface ParsedFile {
  sf: ts.SourceFile
  /** Top-level and nested `const` declarations by name (a name declared twice is ambiguous: null). */
  consts: Map<string, ts.Expression | null>
  /** Imported local name → [absolute file, exported name]. */
  imports: Map<string, [string, string]>
}

export function listSourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
    }
  }
  walk(root)
  return out.sort()
}

/** Parses with the project's TypeScript (tsgo through its API): the same parser as the typecheck. */
export function collectRegexes(repoRoot: string, files: string[]): RegexSite[] {
  const api = new API({ cwd: repoRoot })
  try {
    const project = api.updateSnapshot({ openProject: join(repoRoot, 'tsconfig.json') }).getProjects()[0]
    return collect(repoRoot, files, (file) => {
      const sf = project.program.getSourceFile(file)
      if (!sf) throw new Error(`${file} is not in the TypeScript project`)
      return sf
    })
  } finally {
    api.close()
  }
}

function collect(repoRoot: string, files: string[], sourceFile: (file: string) => ts.SourceFile): RegexSite[] {
  const cache = new Map<string, ParsedFile>()
  const parse = (file: string): ParsedFile => {
    let p = cache.get(file)
    if (p) return p
    const sf = sourceFile(file)
    const consts = new Map<string, ts.Expression | null>()
    const imports = new Map<string, [string, string]>()
    const visit = (n: ts.Node) => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && (n.parent.flags & ts.NodeFlags.Const)) {
        consts.set(n.name.text, consts.has(n.name.text) ? null : n.initializer)
      }
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && n.moduleSpecifier.text.startsWith('.')) {
        const from = resolve(dirname(file), n.moduleSpecifier.text)
        const named = n.importClause?.namedBindings
        if (named && ts.isNamedImports(named)) {
          for (const el of named.elements) imports.set(el.name.text, [from, (el.propertyName ?? el.name).text])
        }
      }
      n.forEachChild(visit)
    }
    visit(sf)
    p = { sf, consts, imports }
    cache.set(file, p)
    return p
  }

  const evaluate = (file: string, e: ts.Expression, depth = 0, bindings: ReadonlyMap<string, Value> = new Map()): Value => {
    const hole: Value = { text: HOLE, dynamic: true }
    if (depth > 20) return hole
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return { text: e.text, dynamic: false }
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) return evaluate(file, e.expression, depth + 1, bindings)
    if (ts.isRegularExpressionLiteral(e)) return { text: splitLiteral(e.text).source, dynamic: false, regex: true }
    if (ts.isTemplateExpression(e)) {
      let text = e.head.text
      let dynamic = false
      for (const span of e.templateSpans) {
        const v = evaluate(file, span.expression, depth + 1, bindings)
        text += v.text + span.literal.text
        dynamic ||= v.dynamic
      }
      return { text, dynamic }
    }
    if (ts.isTaggedTemplateExpression(e) && e.tag.getText() === 'String.raw' && ts.isNoSubstitutionTemplateLiteral(e.template)) {
      return { text: e.template.getText().slice(1, -1), dynamic: false }
    }
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const l = evaluate(file, e.left, depth + 1, bindings)
      const r = evaluate(file, e.right, depth + 1, bindings)
      return { text: l.text + r.text, dynamic: l.dynamic || r.dynamic }
    }
    if (ts.isPropertyAccessExpression(e) && e.name.text === 'source') return evaluate(file, e.expression, depth + 1, bindings)
    // `ID('whk')` with `const ID = (prefix: string) => \`^${prefix}_...$\``: the body with the arguments bound.
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
      const fn = parse(file).consts.get(e.expression.text)
      if (fn && ts.isArrowFunction(fn) && !ts.isBlock(fn.body) && fn.parameters.length === e.arguments.length) {
        const bound = new Map<string, Value>()
        fn.parameters.forEach((param, i) => {
          if (ts.isIdentifier(param.name)) bound.set(param.name.text, evaluate(file, e.arguments[i], depth + 1, bindings))
        })
        return evaluate(file, fn.body as ts.Expression, depth + 1, bound)
      }
    }
    if (ts.isIdentifier(e)) {
      const param = bindings.get(e.text)
      if (param) return param
      const p = parse(file)
      const init = p.consts.get(e.text)
      if (init) return evaluate(file, init, depth + 1)
      const imported = p.imports.get(e.text)
      if (imported) {
        const target = [imported[0], `${imported[0]}.ts`].find((f) => f.endsWith('.ts') && safeExists(f))
        const exported = target ? parse(target).consts.get(imported[1]) : undefined
        if (target && exported) return evaluate(target, exported, depth + 1)
      }
    }
    return hole
  }

  const sites: RegexSite[] = []
  for (const file of files) {
    const { sf } = parse(file)
    const rel = relative(repoRoot, file)
    const add = (node: ts.Node, kind: RegexSite['kind'], source: Value, flags: Value) => {
      sites.push({
        file: rel, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, kind,
        source: source.text, flags: flags.text, dynamic: source.dynamic || flags.dynamic, code: node.getText().replace(/\s+/g, ' '),
      })
    }
    const visit = (n: ts.Node) => {
      if (ts.isRegularExpressionLiteral(n)) {
        const { source, flags } = splitLiteral(n.text)
        add(n, 'literal', { text: source, dynamic: false }, { text: flags, dynamic: false })
      } else if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression) && n.expression.text === 'RegExp') {
        const [src, flags] = n.arguments ?? []
        // A regex literal argument is reported as a literal already.
        if (src && !ts.isRegularExpressionLiteral(src)) add(n, 'constructor', evaluate(file, src), flags ? evaluate(file, flags) : { text: '', dynamic: false })
      } else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ['match', 'matchAll', 'search'].includes(n.expression.name.text)) {
        const [arg] = n.arguments
        if (arg && !ts.isRegularExpressionLiteral(arg)) {
          const v = evaluate(file, arg)
          // A string argument builds a RegExp; a RegExp argument was built (and reported) where it was written.
          if (!v.dynamic && !v.regex) add(n, 'string-method', v, { text: '', dynamic: false })
        }
      } else if (ts.isPropertyAssignment(n) && propertyName(n.name) === 'pattern') {
        const v = evaluate(file, n.initializer)
        // `pattern: /re/` is a literal, reported on its own.
        if (!ts.isRegularExpressionLiteral(n.initializer)) add(n, 'schema-pattern', v, { text: 'u', dynamic: false })
      }
      n.forEachChild(visit)
    }
    visit(sf)
  }
  return sites
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined
}

/** `/ab+c/gi` → { source: 'ab+c', flags: 'gi' } (the last slash ends the body). */
export function splitLiteral(text: string): { source: string; flags: string } {
  const end = text.lastIndexOf('/')
  return { source: text.slice(1, end), flags: text.slice(end + 1) }
}

function safeExists(f: string): boolean {
  try { return statSync(f).isFile() } catch { return false }
}
