/**
 * Redirect URI policy (OAuth 2.1 §2.3.1, RFC 8252 §7, §8.4):
 * - absolute, no fragment, no wildcard, compared by exact string match at the authorization endpoint;
 * - web applications: https only;
 * - native applications: https, http on a loopback IP literal (127.0.0.1 or [::1], any port at
 *   runtime per RFC 8252 §7.3; `localhost` is refused, §8.3), or a private-use scheme in
 *   reverse-domain form (`com.example.app:/callback`).
 * Returns a reason for the first URI refused, or null.
 */
export function checkRedirectUris(uris: readonly string[], applicationType: 'web' | 'native'): string | null {
  for (const raw of uris) {
    if (raw.includes('*')) return `${raw}: wildcards are not allowed`
    let u: URL
    try { u = new URL(raw) } catch { return `${raw}: not an absolute URI` }
    if (u.hash || raw.includes('#')) return `${raw}: must not contain a fragment`
    if (u.username || u.password) return `${raw}: must not contain credentials`
    const scheme = u.protocol.slice(0, -1)
    if (scheme === 'https') {
      if (!u.hostname) return `${raw}: missing host`
      continue
    }
    if (applicationType === 'web') return `${raw}: web applications must use https`
    if (scheme === 'http') {
      if (u.hostname !== '127.0.0.1' && u.hostname !== '[::1]') {
        return `${raw}: native apps may use http only on a loopback IP literal (127.0.0.1 or [::1])`
      }
      continue
    }
    if (!/^[a-z][a-z0-9+-]*\.[a-z0-9+.-]+$/.test(scheme)) {
      return `${raw}: a private-use scheme must be a reverse domain name (e.g. com.example.app)`
    }
  }
  return null
}
