import { generate } from 'otplib'
import type { TestApp } from '../helpers/harness.ts'
import { buildTestApp } from '../helpers/harness.ts'
import type { DialectName } from '../../src/storage/dialects.ts'
import { insertMembership } from '../../src/users/membership-store.ts'
import { createMemoryOutbox, type MemoryOutbox } from '../../src/users/mail.ts'

export const ORIGIN = 'https://sealpost.test'
export const PASSWORD = 'correct horse battery staple 42'

export function buildUsersApp(dialect: DialectName): Promise<TestApp> {
  return buildTestApp({ dialect, env: { SEALPOST_PUBLIC_URL: ORIGIN }, deps: { mailSender: createMemoryOutbox() } })
}

export const outbox = (h: TestApp) => h.app.systemMail as MemoryOutbox

/** A user with a role in an org (no MFA yet). */
export async function addUser(h: TestApp, orgId: string, role: string, email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`) {
  const u = await h.app.users.accounts.createUser({ email, password: PASSWORD, displayName: role, emailVerified: true })
  await insertMembership(h.db, orgId, u.id, role, h.clock.now().getTime())
  return { id: u.id, email }
}

/** The current TOTP code for a base32 secret at the test clock's time. */
export function totpAt(h: TestApp, secret: string, offsetMs = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor((h.clock.now().getTime() + offsetMs) / 1000) })
}

export interface Browser {
  token: string | null
  csrf: string | null
  ip: string
  send(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ReturnType<TestApp['http']['inject']> extends Promise<infer R> ? R : never>
}

/**
 * A browser: keeps the `__Host-sid` cookie from Set-Cookie, sends the CSRF
 * token it was given and the deployment's Origin, like the dashboard would.
 */
export function browser(h: TestApp, ip = '203.0.113.7'): Browser {
  const b: Browser = {
    token: null,
    csrf: null,
    ip,
    async send(method, url, body, headers = {}) {
      const h2: Record<string, string> = { origin: ORIGIN, ...headers }
      if (b.token) h2.cookie = `__Host-sid=${b.token}`
      if (b.csrf && !('x-csrf-token' in headers)) h2['x-csrf-token'] = b.csrf
      for (const [k, v] of Object.entries(h2)) if (v === '') delete h2[k]
      const r = await h.http.inject({ method: method as any, url, headers: h2, remoteAddress: b.ip, ...(body !== undefined ? { payload: body as any } : {}) })
      const set = r.headers['set-cookie']
      for (const c of Array.isArray(set) ? set : set ? [set] : []) {
        const m = /^__Host-sid=([^;]*);/.exec(c)
        if (m) b.token = m[1] || null
      }
      try {
        const j = r.json()
        if (j && typeof j.csrfToken === 'string') b.csrf = j.csrfToken
      } catch { /* not JSON */ }
      return r
    },
  }
  return b
}

/** Signs in and, when the user has TOTP, completes the second factor. */
export async function signIn(h: TestApp, email: string, opts: { totpSecret?: string; ip?: string } = {}): Promise<Browser> {
  const b = browser(h, opts.ip)
  const r = await b.send('POST', '/v1/auth/login', { email, password: PASSWORD })
  if (r.statusCode !== 200) throw new Error(`login failed: ${r.statusCode} ${r.body}`)
  if (opts.totpSecret) {
    const v = await b.send('POST', '/v1/auth/mfa/totp', { code: await totpAt(h, opts.totpSecret) })
    if (v.statusCode !== 200) throw new Error(`totp failed: ${v.statusCode} ${v.body}`)
  }
  return b
}

/** Enrols TOTP for a signed-in browser; returns the secret and recovery codes. */
export async function enrolTotp(h: TestApp, b: Browser): Promise<{ secret: string; recoveryCodes: string[] }> {
  const s = await b.send('POST', '/v1/users/me/mfa/totp')
  if (s.statusCode !== 201) throw new Error(`totp start failed: ${s.statusCode} ${s.body}`)
  const { secret } = s.json()
  const c = await b.send('POST', '/v1/users/me/mfa/totp/confirm', { code: await totpAt(h, secret) })
  if (c.statusCode !== 200) throw new Error(`totp confirm failed: ${c.statusCode} ${c.body}`)
  // A code's time step is spent now: move past it so the next sign-in gets a fresh code.
  h.clock.advance(30_000)
  return { secret, recoveryCodes: c.json().recoveryCodes }
}
