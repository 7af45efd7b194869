import type { KoaContextWithOIDC } from 'oidc-provider'
import { esc, page } from './html.ts'

/** Pages oidc-provider renders itself (device code entry and confirmation, errors), in Sealpost's look and CSP. */
const nonceOf = (ctx: KoaContextWithOIDC) => String(ctx.state.cspNonce)

function render(ctx: KoaContextWithOIDC, title: string, body: string): void {
  ctx.type = 'html'
  ctx.body = page({ title, nonce: nonceOf(ctx), body })
}

/** oidc-provider's input form carries an inline onfocus handler; the CSP would block it anyway, so drop it. */
const withoutInlineHandlers = (form: string) => form.replace(/\son[a-z]+="[^"]*"/gi, '')

export async function userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: any): Promise<void> {
  let msg = '<p>Enter the code shown on your device.</p>'
  if (err && (err.userCode || err.name === 'NoCodeError')) msg = '<p class="error">That code is not valid. Check it and try again.</p>'
  else if (err?.name === 'AbortedError') msg = '<p class="error">The sign-in request was cancelled.</p>'
  else if (err) msg = '<p class="error">Something went wrong with this request.</p>'
  render(ctx, 'Connect a device', `${msg}${withoutInlineHandlers(form)}<button type="submit" form="op.deviceInputForm">Continue</button>`)
}

export async function userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: any, _deviceInfo: unknown, userCode: string): Promise<void> {
  render(ctx, 'Confirm the device', `<p><strong>${esc(client.clientName ?? client.clientId)}</strong> asks to connect.</p>
<p>Check that your device shows this code:</p><p><code>${esc(userCode)}</code></p>
<p class="muted">If you did not start this, or the code differs, cancel.</p>${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button>`)
}

export async function deviceSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  render(ctx, 'Device connected', '<p>You can close this page and return to your device.</p>')
}

/** Errors shown in the browser: the OAuth error code and description (never a stack or internal detail). */
export async function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, _error: Error): Promise<void> {
  render(ctx, 'This request cannot continue', `<p class="error">${esc(out.error)}</p>${out.error_description ? `<p>${esc(out.error_description)}</p>` : ''}`)
}
