import { SCOPES, type Scope } from '../../access/scopes.ts'
import { esc, page } from './html.ts'

/** Server-rendered login, MFA and consent pages: no script at all, one nonce'd stylesheet. */
const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`

export function loginPage(o: { nonce: string; uid: string; csrf: string; clientName: string; error?: string; email?: string }): string {
  return page({ title: 'Sign in', nonce: o.nonce, body: `
<p>Sign in to continue to <strong>${esc(o.clientName)}</strong>.</p>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
<form method="post" action="/oauth/interaction/${esc(o.uid)}/login" autocomplete="on">${hidden(o.csrf)}
<label for="email">Email</label><input id="email" type="email" name="email" required autofocus autocomplete="username" value="${esc(o.email ?? '')}">
<label for="password">Password</label><input id="password" type="password" name="password" required autocomplete="current-password">
<button type="submit">Sign in</button></form>
<form method="post" action="/oauth/interaction/${esc(o.uid)}/abort">${hidden(o.csrf)}<button type="submit">Cancel</button></form>` })
}

export function mfaPage(o: { nonce: string; uid: string; csrf: string; error?: string }): string {
  return page({ title: 'Two-step verification', nonce: o.nonce, body: `
<p>Enter the 6-digit code from your authenticator app, or a recovery code.</p>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
<form method="post" action="/oauth/interaction/${esc(o.uid)}/mfa">${hidden(o.csrf)}
<label for="code">Code</label><input id="code" type="text" name="code" required autofocus inputmode="numeric" autocomplete="one-time-code" maxlength="64">
<button type="submit">Verify</button></form>
<form method="post" action="/oauth/interaction/${esc(o.uid)}/abort">${hidden(o.csrf)}<button type="submit">Cancel</button></form>` })
}

/** Scopes in plain words, from the same catalogue API keys use. */
const describe = (s: string) => (s in SCOPES ? SCOPES[s as Scope] : s === 'offline_access' ? 'Stay connected when you are not using it (refresh tokens)' : s)

export function consentPage(o: {
  nonce: string; uid: string; csrf: string; clientName: string; orgName: string; user: string
  granted: string[]; withheld: string[]; device: boolean
}): string {
  const list = (scopes: string[]) => `<ul class="scopes">${scopes.map((s) => `<li>${esc(describe(s))} <span class="muted">(${esc(s)})</span></li>`).join('')}</ul>`
  return page({ title: 'Authorize access', nonce: o.nonce, body: `
<p><strong>${esc(o.clientName)}</strong> asks for access to <strong>${esc(o.orgName)}</strong> as ${esc(o.user)}.</p>
${o.granted.length ? `<p>It will be able to:</p>${list(o.granted)}` : '<p>It asks for nothing you can grant.</p>'}
${o.withheld.length ? `<p class="muted">Also requested, but your role does not allow it (not granted):</p>${list(o.withheld)}` : ''}
${o.device ? '<p class="muted">Only continue if you started this on your own device.</p>' : ''}
<form method="post" action="/oauth/interaction/${esc(o.uid)}/consent">${hidden(o.csrf)}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>
<p class="muted">You can withdraw this at any time by revoking the app's access.</p>` })
}

export function messagePage(o: { nonce: string; title: string; message: string }): string {
  return page({ title: o.title, nonce: o.nonce, body: `<p>${esc(o.message)}</p>` })
}
