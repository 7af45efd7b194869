import { createServer, type IncomingHttpHeaders } from 'node:http'

export interface Received { headers: IncomingHttpHeaders; body: string }

/**
 * A webhook receiver on loopback (node:http) that keeps raw bodies and headers and
 * answers with the next status of `statuses` (then the last one, forever).
 */
export async function startReceiver(t: { after(fn: () => unknown): void }, statuses: number[] = [200]) {
  const got: Received[] = []
  const waiters: (() => void)[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      const status = statuses[Math.min(got.length, statuses.length - 1)]
      got.push({ headers: req.headers, body })
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://169.254.169.254/latest/meta-data/' } : {}).end('ok')
      waiters.splice(0).forEach((w) => w())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    got,
    /** Resolves once `n` requests have arrived (no sleeping: the request itself wakes it). */
    async waitFor(n: number): Promise<void> {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r))
    },
  }
}
