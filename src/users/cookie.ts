/**
 * The session cookie. `__Host-` makes browsers refuse it unless it is Secure,
 * has Path=/ and no Domain (so a sibling subdomain cannot set or shadow it);
 * HttpOnly keeps it from scripts; SameSite=Strict keeps it off cross-site requests.
 */
export const SESSION_COOKIE = '__Host-sid'
const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Strict'

/** No Max-Age: a browser-session cookie; the server enforces idle and absolute timeouts. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; ${ATTRIBUTES}`
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; ${ATTRIBUTES}; Max-Age=0`
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** The session token from a Cookie header, or null. Several `__Host-sid` values: refused (cookie tossing). */
export function readSessionToken(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null
  const values = cookieHeader.split(';').map((p) => p.trim()).filter((p) => p.startsWith(`${SESSION_COOKIE}=`))
  if (values.length !== 1) return null
  const value = values[0].slice(SESSION_COOKIE.length + 1)
  return TOKEN.test(value) ? value : null
}
