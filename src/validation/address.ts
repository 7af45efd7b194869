/**
 * Email addresses, allow-list style. Enforces:
 * - RFC 5321 §4.5.3.1 limits: local part <= 64 octets, domain <= 255, path <= 254
 * - local part: RFC 5322 dot-atom of ASCII atext only (quoted local parts, which
 *   can carry `@`, spaces and backslashes, are refused)
 * - domain: IDN → punycode (UTS #46 via node:url domainToASCII), lower-cased,
 *   LDH labels of 1-63 chars, at least two labels, no numeric TLD, no [literal]
 * - display name (RFC 5322 phrase or quoted-string): no control chars (CR/LF/NUL),
 *   no bidi or zero-width characters, no encoded-words, no `@` `<` `>` `"` `\`
 *   even as look-alikes after NFKC (`＠` U+FF20, `﹫` U+FE6B), so a name can never
 *   pose as another address ("support@bank.com" <evil@x.io>)
 */
import { domainToASCII } from 'node:url'
import { checkHeaderText, fieldError } from './text.ts'

export interface ParsedAddress {
  /** local@ascii-domain, ready for the SMTP envelope and the header. */
  address: string
  name?: string
  /** Lower-cased ASCII (punycode) domain. */
  domain: string
}

export type AddressInput = string | { email: string; name?: string | null }

export const ADDRESS_LIMITS = { local: 64, domain: 255, path: 254, name: 200, input: 512, list: 50 } as const

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
const DOT_ATOM = new RegExp(`^${ATEXT}(?:\\.${ATEXT})*$`)
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/** RFC 5322 specials that may not appear in an unquoted phrase ("." is allowed: obs-phrase). */
const PHRASE_SPECIALS = /[()<>[\]:;@\\,"]/
/** Characters that make a name pose as an address or break out of quoting. */
const NAME_FORBIDDEN = /[@<>"\\]/
const INVISIBLE = /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200d\u2060-\u2064\ufeff]/

const bad = (field: string, reason: string, message: string) => fieldError('invalid_address', field, reason, message)

function checkName(raw: string, field: string): string | undefined {
  checkHeaderText('invalid_address', field, raw, ADDRESS_LIMITS.name, 'The display name')
  const name = raw.trim().replace(/[ \t]+/g, ' ')
  if (!name) return undefined
  if (INVISIBLE.test(name)) throw bad(field, 'invisible_characters', 'The display name must not contain zero-width or invisible characters.')
  if (NAME_FORBIDDEN.test(name.normalize('NFKC'))) {
    throw bad(field, 'name_tricks', 'The display name must not contain @, <, >, quotes or backslashes (it could pose as another address).')
  }
  return name
}

function unquote(phrase: string, field: string): string {
  if (!phrase.startsWith('"')) {
    if (PHRASE_SPECIALS.test(phrase)) throw bad(field, 'name_specials', 'A display name with special characters must be quoted.')
    return phrase
  }
  if (phrase.length < 2 || !phrase.endsWith('"')) throw bad(field, 'name_quoting', 'The display name has unbalanced quotes.')
  const inner = phrase.slice(1, -1)
  // Only \" and \\ escapes; a bare quote inside would end the quoted-string early.
  if (/(^|[^\\])(\\\\)*"/.test(inner)) throw bad(field, 'name_quoting', 'The display name has unbalanced quotes.')
  return inner.replace(/\\(.)/g, '$1')
}

function checkDomain(raw: string, field: string): string {
  if (raw.startsWith('[')) throw bad(field, 'address_literal', 'Address literals ([1.2.3.4]) are not accepted; use a domain name.')
  const ascii = domainToASCII(raw)
  if (!ascii) throw bad(field, 'invalid_domain', 'The domain is not a valid (internationalized) domain name.')
  const domain = ascii.toLowerCase().replace(/\.$/, '')
  if (domain.length > ADDRESS_LIMITS.domain) throw bad(field, 'domain_too_long', `The domain is longer than ${ADDRESS_LIMITS.domain} characters.`)
  const labels = domain.split('.')
  if (labels.length < 2) throw bad(field, 'invalid_domain', 'The domain must have at least two labels (example.com).')
  if (!labels.every((l) => LABEL.test(l))) throw bad(field, 'invalid_domain', 'The domain is not a valid host name.')
  if (/^[0-9]+$/.test(labels[labels.length - 1])) throw bad(field, 'invalid_domain', 'The domain must not be an IP address.')
  return domain
}

function checkAddrSpec(spec: string, field: string): { address: string; domain: string } {
  const at = spec.indexOf('@')
  if (at < 0 || at !== spec.lastIndexOf('@')) throw bad(field, 'invalid_address', 'Expected exactly one @ in the address.')
  const local = spec.slice(0, at)
  if (!local) throw bad(field, 'invalid_local_part', 'The local part (before @) is empty.')
  if (Buffer.byteLength(local) > ADDRESS_LIMITS.local) throw bad(field, 'local_part_too_long', `The local part is longer than ${ADDRESS_LIMITS.local} octets.`)
  if (!DOT_ATOM.test(local)) throw bad(field, 'invalid_local_part', 'The local part may contain only ASCII letters, digits, dots and !#$%&\'*+/=?^_`{|}~- (no leading, trailing or double dots).')
  const domain = checkDomain(spec.slice(at + 1), field)
  const address = `${local}@${domain}`
  if (address.length > ADDRESS_LIMITS.path) throw bad(field, 'address_too_long', `The address is longer than ${ADDRESS_LIMITS.path} characters.`)
  return { address, domain }
}

/** `a@b.com`, `Name <a@b.com>`, `"Name, Inc." <a@b.com>` or `{ email, name }` → ParsedAddress; throws invalid_address. */
export function parseAddress(input: AddressInput, field: string): ParsedAddress {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const email = checkHeaderText('invalid_address', `${field}.email`, input.email, ADDRESS_LIMITS.input, 'The address')
    const spec = checkAddrSpec(email.trim(), `${field}.email`)
    const name = input.name == null ? undefined : checkName(input.name, `${field}.name`)
    return name ? { ...spec, name } : spec
  }
  const text = checkHeaderText('invalid_address', field, input, ADDRESS_LIMITS.input, 'The address').trim()
  if (!text) throw bad(field, 'empty', 'The address is empty.')
  const open = text.lastIndexOf('<')
  if (open < 0) {
    if (text.includes('>')) throw bad(field, 'invalid_address', 'Unbalanced angle brackets in the address.')
    return checkAddrSpec(text, field)
  }
  if (!text.endsWith('>')) throw bad(field, 'invalid_address', 'Text after the closing > is not allowed.')
  const spec = checkAddrSpec(text.slice(open + 1, -1).trim(), field)
  const phrase = text.slice(0, open).trim()
  const name = phrase ? checkName(unquote(phrase, field), field) : undefined
  return name ? { ...spec, name } : spec
}

/** Splits `a@x.com, "B, Inc." <b@y.com>` on commas outside quotes and angle brackets. */
function splitList(text: string): string[] {
  const parts: string[] = []
  let cur = ''
  let quoted = false
  let angle = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && quoted) { cur += c + (text[++i] ?? ''); continue }
    if (c === '"') quoted = !quoted
    else if (!quoted && c === '<') angle = true
    else if (!quoted && c === '>') angle = false
    if (c === ',' && !quoted && !angle) { parts.push(cur); cur = ''; continue }
    cur += c
  }
  parts.push(cur)
  return parts.map((p) => p.trim()).filter(Boolean)
}

/**
 * One address, a comma-separated string, or an array of strings / `{ email, name }`.
 * Each error names its element (`to[2]`). Duplicates (same address) are dropped.
 */
export function parseAddressList(
  input: AddressInput | AddressInput[] | null | undefined,
  field: string,
  opts: { max?: number; min?: number } = {},
): ParsedAddress[] {
  const max = opts.max ?? ADDRESS_LIMITS.list
  const min = opts.min ?? 0
  let items: AddressInput[]
  if (input == null) items = []
  else if (Array.isArray(input)) items = input
  else if (typeof input === 'string') {
    if (input.length > ADDRESS_LIMITS.input * max) throw bad(field, 'too_long', 'The address list is too long.')
    items = splitList(input)
  } else items = [input]
  if (items.length > max) throw fieldError('invalid_address', field, 'too_many', `At most ${max} addresses are allowed in ${field}.`, { max })
  if (items.length < min) throw fieldError('invalid_address', field, 'too_few', `At least ${min} address${min === 1 ? ' is' : 'es are'} required in ${field}.`, { min })
  const seen = new Set<string>()
  const out: ParsedAddress[] = []
  items.forEach((item, i) => {
    const parsed = parseAddress(item, Array.isArray(input) || items.length > 1 ? `${field}[${i}]` : field)
    const key = parsed.address.toLowerCase()
    if (!seen.has(key)) { seen.add(key); out.push(parsed) }
  })
  return out
}
