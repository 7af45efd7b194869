import { readFileSync } from 'node:fs'
import { MAX_PASSWORD_LENGTH } from './password.ts'

/**
 * Password policy (NIST SP 800-63B §3.1.1.2, OWASP ASVS V2.1):
 * - at least 12 characters (Unicode code points), at most 128 (argon2 cost is bounded);
 * - not on the shipped common-password list, also after undoing leetspeak and
 *   stripping the digits/symbols people add around a common word ("P@ssw0rd2024!");
 * - not one repeated character or a plain run, not the user's email.
 * No composition rules: they make passwords worse, not better.
 */
export const MIN_PASSWORD_LENGTH = 12

let common: Set<string> | undefined
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#')),
  )
  return common
}

const LEET: Record<string, string> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i' }
const unleet = (s: string) => s.replace(/[013457@$!]/g, (c) => LEET[c])

/** The candidate base forms of a password a cracker would try first. */
function baseForms(password: string): string[] {
  const lower = password.toLowerCase().normalize('NFKC')
  const stripped = lower.replace(/^[\d\W_]+/, '').replace(/(?<![\d\W_])[\d\W_]+$/, '')
  const forms = new Set([lower, stripped, unleet(lower), unleet(stripped)])
  // "p@ssw0rd123": leetspeak first, then strip what is left around it
  forms.add(unleet(lower).replace(/^[\d\W_]+/, '').replace(/(?<![\d\W_])[\d\W_]+$/, ''))
  return [...forms].filter((f) => f.length > 0)
}

function isMonotone(password: string): boolean {
  if (new Set(password).size <= 2) return true
  const codes = [...password].map((c) => c.codePointAt(0)!)
  const steps = new Set(codes.slice(1).map((c, i) => c - codes[i]))
  return steps.size === 1 && [...steps].every((d) => Math.abs(d) === 1)
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_email' | 'repetitive'

/** Returns the first problem, or null when the password is acceptable. */
export function checkPassword(password: string, context: { email?: string } = {}): PasswordProblem | null {
  const length = [...password].length
  if (length < MIN_PASSWORD_LENGTH) return 'too_short'
  if (password.length > MAX_PASSWORD_LENGTH) return 'too_long'
  if (isMonotone(password)) return 'repetitive'
  const list = commonPasswords()
  if (baseForms(password).some((f) => list.has(f))) return 'common'
  const local = context.email?.split('@')[0]?.toLowerCase()
  if (local && local.length >= 4 && password.toLowerCase().includes(local)) return 'contains_email'
  return null
}

export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, string> = {
  too_short: `Password must be at least ${MIN_PASSWORD_LENGTH} characters.`,
  too_long: `Password must be at most ${MAX_PASSWORD_LENGTH} characters.`,
  common: 'This password is too common: it appears on lists attackers try first. Choose another.',
  contains_email: 'Password must not contain your email address.',
  repetitive: 'Password must not be a repeated character or a simple sequence.',
}
