/**
 * A minimal browser for the OAuth pages: a cookie jar, manual redirects (so the
 * test sees each hop), and form posts built from the page's own hidden fields.
 */
export interface Page { status: number; url: string; location: string | null; html: string; headers: Headers }

export function createBrowser(base: string) {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  function keep(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';')
      const i = pair.indexOf('=')
      const name = pair.slice(0, i).trim(); const value = pair.slice(i + 1).trim()
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === ''
      if (expired) jar.delete(name); else jar.set(name, value)
    }
  }
  async function request(method: string, url: string, form?: Record<string, string>): Promise<Page> {
    const abs = new URL(url, base).href
    const res = await fetch(abs, {
      method, redirect: 'manual',
      headers: { cookie: cookieHeader(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    keep(res)
    return { status: res.status, url: abs, location: res.headers.get('location'), html: await res.text(), headers: res.headers }
  }
  /** Follows redirects while they stay on the server; stops at the first page or at a redirect elsewhere. */
  async function follow(first: Page): Promise<Page> {
    let p = first
    for (let i = 0; i < 10 && p.location && new URL(p.location, base).origin === new URL(base).origin; i++) p = await request('GET', p.location)
    return p
  }
  return {
    jar,
    get: (url: string) => request('GET', url),
    post: (url: string, form: Record<string, string>) => request('POST', url, form),
    follow,
    async open(url: string) { return follow(await request('GET', url)) },
    async submit(page: Page, action: string, fields: Record<string, string>) {
      return follow(await request('POST', action, { ...hiddenFields(page.html), ...fields }))
    },
  }
}

export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) out[m[1]] = m[2].replace(/&amp;/g, '&')
  return out
}

export const formAction = (html: string, contains: string) => {
  const m = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((x) => x[1]).find((a) => a.includes(contains))
  if (!m) throw new Error(`no form posting to *${contains}* in:\n${html}`)
  return m.replace(/&amp;/g, '&')
}
