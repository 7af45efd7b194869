import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = new URL('../../src/', import.meta.url).pathname

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

/** What makes an outbound HTTP request or classifies addresses for one: only src/net/ may. */
const OUTBOUND = [
  { what: 'an https client', re: /import\s+(?!type\b)[^;]*from\s+'node:https'/ },
  { what: 'an http client', re: /import\s*\{[^}]*\b(request|get|Agent)\b[^}]*\}\s*from\s+'node:http'/ },
  { what: 'an http client', re: /import\s+\w+\s+from\s+'node:http'/ },
  { what: 'an http/2 client', re: /from\s+'node:http2'/ },
  { what: 'undici', re: /from\s+'undici'/ },
  { what: 'fetch', re: /(^|[^.\w])fetch\(/m },
  { what: 'an ipaddr.js range() classifier', re: /\.range\(\)/ },
  { what: 'a raw socket', re: /\b(tls|net)\.connect\(/ },
]
/** What is not a customer-given outbound URL, each with why. */
const EXEMPT: { file: string; what: string; why: string }[] = [
  { file: 'audit/syslog-forwarder.ts', what: 'a raw socket', why: 'the SIEM receiver is the operator\'s configuration (AUDIT_SYSLOG_URL), often on a private network by design' },
  { file: 'monitoring/responder.ts', what: 'an ipaddr.js range() classifier', why: 'classifies the CLIENT address of a request (never auto-block loopback), not a target' },
]
const exempt = (file: string, what: string) => EXEMPT.some((e) => e.file === file && e.what === what)

test('every outbound HTTP request and address check lives in src/net/: no second guard or client elsewhere', () => {
  const offenders: string[] = []
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file)
    if (rel.startsWith('net/')) continue
    const text = readFileSync(file, 'utf8')
    for (const rule of OUTBOUND) if (rule.re.test(text) && !exempt(rel, rule.what)) offenders.push(`${rel}: ${rule.what}`)
  }
  assert.deepEqual(offenders, [])
  // The scanner itself sees what it looks for (the module it protects uses both).
  const net = readFileSync(join(SRC, 'net/pinned-request.ts'), 'utf8')
  assert.ok(OUTBOUND[0].re.test(net) && OUTBOUND[1].re.test(net))
  for (const e of EXEMPT) {
    const rule = OUTBOUND.find((r) => r.what === e.what)!
    assert.ok(rule.re.test(readFileSync(join(SRC, e.file), 'utf8')), `${e.file}: the exemption is still needed`)
  }
})
