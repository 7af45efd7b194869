import { generate } from 'otplib'
import type { TestApp } from '../helpers/harness.ts'
import type { OAuthTestApp } from './helpers.ts'
import { insertMembership } from '../../src/users/membership-store.ts'

export const PASSWORD = 'correct horse battery staple 42'

/** A member of the org with a role; with `mfa`, TOTP is enrolled through the users JSON API. */
export async function addMember(h: OAuthTestApp, orgId: string, role: string, opts: { mfa?: boolean } = {}) {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`
  const u = await h.app.users.accounts.createUser({ email, password: PASSWORD, displayName: `A ${role}`, emailVerified: true })
  await insertMembership(h.db, orgId, u.id, role, h.clock.now().getTime())
  if (!opts.mfa) return { id: u.id, email, totpSecret: null as string | null }
  const origin = h.app.users.allowedOrigins[0] ?? h.base
  let cookie = ''
  let csrf = ''
  const send = async (url: string, payload?: unknown) => {
    const r = await fetch(`${h.base}${url}`, {
      method: 'POST', body: payload ? JSON.stringify(payload) : undefined,
      headers: { origin, cookie, ...(payload ? { 'content-type': 'application/json' } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}) },
    })
    for (const c of r.headers.getSetCookie()) { const m = /^(__Host-sid=[^;]*);/.exec(c); if (m) cookie = m[1] }
    const text = await r.text()
    const j = text ? JSON.parse(text) : null
    if (typeof j?.csrfToken === 'string') csrf = j.csrfToken
    if (r.status >= 300) throw new Error(`${url}: ${r.status} ${text}`)
    return j
  }
  await send('/v1/auth/login', { email, password: PASSWORD })
  const { secret } = await send('/v1/users/me/mfa/totp')
  await send('/v1/users/me/mfa/totp/confirm', { code: await totpNow(h, secret) })
  h.clock.advance(30_000) // that time step is spent
  return { id: u.id, email, totpSecret: secret as string }
}

export const totpNow = (h: TestApp, secret: string) => generate({ secret, epoch: Math.floor(h.clock.now().getTime() / 1000) })
