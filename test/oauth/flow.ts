import assert from 'node:assert/strict'
import type { OAuthTestApp } from './helpers.ts'
import { createBrowser, formAction, type Page } from './browser.ts'
import { PASSWORD, totpNow } from './users.ts'

export const REDIRECT = 'https://app.example/callback'

/** Login → MFA → (consent) through the server-rendered pages; returns the redirect back to the client. */
export async function authorize(h: OAuthTestApp, url: URL, user: { email: string; totpSecret: string | null }, opts: { expectConsent?: boolean; onConsent?: (p: Page) => void; redirect?: string } = {}) {
  const b = createBrowser(h.base)
  let p = await b.open(url.href)
  assert.equal(p.status, 200, p.html)
  assert.match(p.html, /Sign in/)
  p = await b.submit(p, formAction(p.html, '/login'), { email: user.email, password: PASSWORD })
  if (user.totpSecret) {
    assert.match(p.html, /Two-step verification/)
    p = await b.submit(p, formAction(p.html, '/mfa'), { code: await totpNow(h, user.totpSecret) })
  }
  if (opts.expectConsent !== false) {
    assert.equal(p.status, 200, p.location ?? p.html)
    assert.match(p.html, /Authorize access/)
    opts.onConsent?.(p)
    p = await b.submit(p, formAction(p.html, '/consent'), { decision: 'allow' })
  }
  assert.equal(p.status, 303, p.html)
  assert.ok(p.location?.startsWith(opts.redirect ?? REDIRECT), p.location ?? '')
  return new URL(p.location!)
}

