import { classifyAddress, describeClass, isAllowed } from './classify.ts'
import { pinnedRequest, type PinnedAddress } from './pinned-request.ts'
import { resolveWithin, systemResolveHost, type ResolveHost } from './resolve.ts'
import { OutboundRefused, parseTarget } from './target.ts'

export interface OutboundGuardOptions {
  /**
   * The one escape hatch (SEALPOST_WEBHOOK_ALLOW_PRIVATE, wired once in app.ts): loopback and
   * private networks, `localhost`-style names, and plain http to loopback. Link-local (cloud
   * metadata), multicast, documentation and reserved ranges stay refused even then.
   */
  allowPrivate: boolean
  resolve?: ResolveHost
  /** Bound on a configuration-time check (DNS included); sends use their own timeout. */
  checkTimeoutMs?: number
}

export interface CheckedTarget {
  url: URL
  /** Every address the host resolved to, each one checked: the only ones a connection may use. */
  addresses: PinnedAddress[]
}

export interface OutboundPost {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5000

/**
 * Every outbound URL goes through here: customer webhooks, alert webhooks, and anything
 * later (MTA-STS policy fetches, TLS-RPT reports). `check` is the configuration-time
 * test; `post` checks again at send time (DNS may have changed), then connects to the
 * addresses it checked, never follows a redirect, and reads a bounded answer.
 */
export function createOutboundGuard(opts: OutboundGuardOptions) {
  const resolve = opts.resolve ?? systemResolveHost
  const allowPrivate = opts.allowPrivate

  async function checkWithin(input: string | URL, signal: AbortSignal): Promise<CheckedTarget> {
    const { url, host } = parseTarget(input, allowPrivate)
    let answers: string[]
    if (host.kind === 'address') answers = [host.address]
    else {
      try { answers = await resolveWithin(resolve, host.name, signal) } catch (err) {
        if (signal.aborted) throw err
        throw new OutboundRefused('the host does not resolve', { cause: err })
      }
    }
    if (!answers.length) throw new OutboundRefused('the host does not resolve')
    const addresses: PinnedAddress[] = []
    // ALL answers must pass: a client picks any of them (happy eyeballs), so one private answer is enough to refuse.
    for (const answer of answers) {
      const c = classifyAddress(answer)
      if (!isAllowed(c, allowPrivate)) throw new OutboundRefused(`the host resolves to a non-public address: ${describeClass(c)}`)
      // Plain http only with the hatch, and only to this machine (development receivers): never across a network.
      if (url.protocol === 'http:' && (c.global || c.range.name !== 'loopback')) throw new OutboundRefused('plain http is allowed only to loopback receivers')
      addresses.push({ address: answer, family: answer.includes(':') ? 6 : 4 })
    }
    return { url, addresses }
  }

  const timedOut = (ms: number) => new Error(`timed out after ${ms} ms`)

  return {
    /** Configuration time: throws OutboundRefused (or a timeout) unless the URL may be called. */
    async check(input: string | URL): Promise<CheckedTarget> {
      const ms = opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS
      const signal = AbortSignal.timeout(ms)
      try { return await checkWithin(input, signal) } catch (err) {
        throw signal.aborted && !(err instanceof OutboundRefused) ? timedOut(ms) : err
      }
    },

    /** Send time: check, connect pinned, resolve with the status of any answer (redirects included, not followed). */
    async post(req: OutboundPost): Promise<{ status: number }> {
      const signal = AbortSignal.timeout(req.timeoutMs)
      try {
        const target = await checkWithin(req.url, signal)
        return await pinnedRequest(target.url, target.addresses, { method: 'POST', headers: req.headers, body: req.body, signal })
      } catch (err) {
        throw signal.aborted && !(err instanceof OutboundRefused) ? timedOut(req.timeoutMs) : err
      }
    },
  }
}

export type OutboundGuard = ReturnType<typeof createOutboundGuard>
