/**
 * Outbound SMTP TLS policy. Enforces, for every connection:
 * - TLS before any envelope or content: STARTTLS is required (`requireTLS`) on smtp://
 *   and direct MX, implicit TLS on smtps://; no opportunistic or plaintext fallback;
 * - TLS 1.2 or newer (a peer offering only TLS 1.0/1.1 fails the handshake);
 * - certificate verification against the system roots plus SMTP_CA_FILE, with the
 *   host name checked (SNI + identity), never `rejectUnauthorized: false`.
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls'

export const MIN_TLS_VERSION = 'TLSv1.2'

export function tlsOptions(extraCaPem?: string): ConnectionOptions {
  return {
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: true,
    // Setting `ca` replaces Node's roots, so the system roots are kept alongside the extra CA.
    ...(extraCaPem ? { ca: [...rootCertificates, extraCaPem] } : {}),
  }
}

/** TLS/certificate failures, however nodemailer or OpenSSL word them. */
export function isTlsFailure(err: { code?: string; message?: string; originalCode?: string; cause?: unknown }): boolean {
  if (err.code === 'ETLS') return true
  const codes = [err.originalCode, (err.cause as { code?: string } | undefined)?.code].filter(Boolean) as string[]
  if (codes.some((c) => /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/.test(c))) return true
  return /certificate|self[- ]signed|unsupported protocol|protocol version|wrong version number|\bTLS\b|\bSSL\b|handshake/i.test(err.message ?? '')
}

/** One readable line for a failed handshake: what was wrong, without OpenSSL's source locations. */
export function describeTlsError(message: string): string {
  const core = message
    .replace(/^Error initiating TLS - /, '')
    .replace(/; if the root CA is installed locally.*$/s, '')
    .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):.*$/s, '$1')
    .trim()
  if (/protocol version|unsupported protocol|wrong version number|no protocols available/i.test(core)) {
    return `the peer offers no TLS 1.2 or newer (${core})`
  }
  return core
}
