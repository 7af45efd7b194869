import { lookup } from 'node:dns/promises'

/** Host name → every address it resolves to (injectable: tests play DNS, including rebinding). */
export type ResolveHost = (host: string) => Promise<string[]>

export const systemResolveHost: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/**
 * Resolves within a deadline: getaddrinfo cannot be cancelled, so a slow DNS server
 * is raced instead of waited for (an API request that checks a URL never hangs on it).
 */
export async function resolveWithin(resolve: ResolveHost, host: string, signal: AbortSignal): Promise<string[]> {
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_, reject) => { onAbort = () => reject(signal.reason); signal.addEventListener('abort', onAbort, { once: true }) })
  try {
    return await Promise.race([resolve(host), aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
