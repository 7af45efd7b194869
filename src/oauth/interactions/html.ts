import { randomBytes } from 'node:crypto'

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

export const newNonce = () => randomBytes(18).toString('base64url')

/**
 * Strict CSP for every OAuth page: nothing loads but what carries this
 * response's nonce; forms may post only to us and, when the flow ends with a
 * redirect to the client, to that redirect URI's origin (browsers apply
 * form-action to the redirects that follow a form post).
 */
export function contentSecurityPolicy(nonce: string, redirectUri?: string): string {
  const formAction = ["'self'"]
  const target = redirectUri ? formActionSource(redirectUri) : null
  if (target) formAction.push(target)
  return [
    "default-src 'none'", `script-src 'nonce-${nonce}'`, `style-src 'nonce-${nonce}'`, "img-src 'self'",
    `form-action ${formAction.join(' ')}`, "frame-ancestors 'none'", "base-uri 'none'",
  ].join('; ')
}

export function formActionSource(uri: string): string | null {
  try {
    const u = new URL(uri)
    if (u.protocol === 'https:' || u.protocol === 'http:') return u.origin
    return /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) ? u.protocol : null
  } catch { return null }
}

export const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}' +
  'h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=email],input[type=password],input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}' +
  'button{margin-top:1rem;padding:.5rem 1rem}ul.scopes li{margin:.3rem 0}.muted{color:#666;font-size:.9rem}.error{color:#b00020}code{font-size:1.5rem}'

export function page(opts: { title: string; nonce: string; body: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(opts.title)} · Sealpost</title><style nonce="${opts.nonce}">${STYLE}</style></head>
<body><main><h1>${esc(opts.title)}</h1>${opts.body}</main></body></html>`
}
