import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { createOutboundGuard } from '../../src/net/guard.ts'
import { MAX_RESPONSE_BYTES, pinnedLookup } from '../../src/net/pinned-request.ts'
import { OutboundRefused } from '../../src/net/target.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function listen(t: { after(fn: () => unknown): void }, host: string, handler: Handler, port = 0) {
  let requests = 0
  const server = createServer((req, res) => { requests++; handler(req, res) })
  await new Promise<void>((r) => server.listen(port, host, r))
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  return { port: (server.address() as { port: number }).port, requests: () => requests }
}

const ok: Handler = (_req, res) => { res.writeHead(204).end() }
const post = (guard: ReturnType<typeof createOutboundGuard>, url: string, timeoutMs = 5000) => guard.post({ url, headers: {}, body: '{}', timeoutMs })

test('one resolution per send, and the connection goes to the address that was checked', async (t) => {
  // Two receivers on the same port of two loopback addresses: whichever the name resolves to gets the request.
  const a = await listen(t, '127.0.0.1', ok)
  const b = await listen(t, '127.0.0.2', ok, a.port)
  let asked = 0
  const guard = createOutboundGuard({ allowPrivate: true, resolve: async () => (asked++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']) })
  assert.equal((await post(guard, `http://pin.attacker.example:${a.port}/hook`)).status, 204)
  assert.deepEqual([asked, a.requests(), b.requests()], [1, 1, 0], 'resolved once, connected to the first answer')
  assert.equal((await post(guard, `http://pin.attacker.example:${a.port}/hook`)).status, 204)
  assert.deepEqual([asked, a.requests(), b.requests()], [2, 1, 1], 'the next send resolves again and follows the new (checked) answer')
})

test('the pinned lookup answers only checked addresses, whatever host is asked', async () => {
  const lookup = pinnedLookup([{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }])
  const call = (options: object) => new Promise<unknown[]>((r) => (lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)('evil.example', options, (...args) => r(args)))
  await Promise.all([
    call({ all: true }).then((a) => assert.deepEqual(a, [null, [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }]])),
    call({ family: 6 }).then((a) => assert.deepEqual(a, [null, '2606:2800:220:1:248:1893:25c8:1946', 6])),
    call({ family: 'IPv4' }).then((a) => assert.deepEqual(a, [null, '93.184.216.34', 4])),
  ])
})

test('redirects are never followed: the status is the answer', async (t) => {
  const inside = await listen(t, '127.0.0.1', ok)
  const outer = await listen(t, '127.0.0.1', (_req, res) => { res.writeHead(307, { location: `http://127.0.0.1:${inside.port}/admin` }).end() })
  const guard = createOutboundGuard({ allowPrivate: true })
  assert.equal((await post(guard, `http://127.0.0.1:${outer.port}/hook`)).status, 307)
  assert.equal(inside.requests(), 0)
})

test('the answer is read up to a bound, then the connection is closed', async (t) => {
  let finished: Promise<boolean> | null = null
  const big = await listen(t, '127.0.0.1', (_req, res) => {
    res.writeHead(200)
    finished = (async () => {
      const chunk = Buffer.alloc(64 * 1024, 'x')
      const drained = () => new Promise<void>((r) => { const done = () => { res.off('drain', done); res.off('close', done); r() }; res.on('drain', done); res.on('close', done) })
      for (let sent = 0; sent < 16 * 1024 * 1024; sent += chunk.length) {
        if (res.destroyed) return false
        if (!res.write(chunk)) await drained()
      }
      res.end()
      return true
    })()
  })
  const guard = createOutboundGuard({ allowPrivate: true })
  assert.equal((await post(guard, `http://127.0.0.1:${big.port}/hook`)).status, 200)
  assert.ok(MAX_RESPONSE_BYTES < 16 * 1024 * 1024)
  assert.equal(await finished, false, 'the client hung up long before 16 MiB')
})

test('oversized response headers are refused, not buffered', async (t) => {
  const fat = await listen(t, '127.0.0.1', (_req, res) => { res.writeHead(200, { 'x-fill': 'a'.repeat(12 * 1024) }).end() })
  await assert.rejects(post(createOutboundGuard({ allowPrivate: true }), `http://127.0.0.1:${fat.port}/hook`), /HPE_HEADER_OVERFLOW|Header overflow/)
})

test('a body trickled after the status is cut off at the deadline', async (t) => {
  let closed: Promise<unknown> | null = null
  const slow = await listen(t, '127.0.0.1', (_req, res) => {
    res.writeHead(200)
    const timer = setInterval(() => res.write('.'), 20)
    closed = once(res, 'close').then(() => clearInterval(timer))
  })
  assert.equal((await post(createOutboundGuard({ allowPrivate: true }), `http://127.0.0.1:${slow.port}/hook`, 300)).status, 200)
  await closed // without the deadline this never happens and the test times out
})

test('a DNS server that never answers cannot hold a check or a send past its deadline', async () => {
  const guard = createOutboundGuard({ allowPrivate: false, resolve: () => new Promise(() => {}), checkTimeoutMs: 200 })
  await assert.rejects(guard.check('https://slow.attacker.example/hook'), (err: Error) => !(err instanceof OutboundRefused) && /timed out after 200 ms/.test(err.message))
  await assert.rejects(post(guard, 'https://slow.attacker.example/hook', 150), /timed out after 150 ms/)
})

test('a resolver error is a refusal that says the host does not resolve (and hides the resolver\'s text)', async () => {
  const guard = createOutboundGuard({ allowPrivate: false, resolve: async () => { throw new Error('getaddrinfo EAI_AGAIN internal-dns.corp 10.0.0.53') } })
  await assert.rejects(guard.check('https://x.attacker.example/'), (err: Error) => err instanceof OutboundRefused && err.message === 'the host does not resolve')
})

test('IPv6 and IPv4-mapped literals connect to the address they name (escape hatch on)', async (t) => {
  const v6 = await listen(t, '::1', ok)
  const guard = createOutboundGuard({ allowPrivate: true })
  assert.equal((await post(guard, `http://[::1]:${v6.port}/hook`)).status, 204)
  assert.equal(v6.requests(), 1)
  const v4 = await listen(t, '127.0.0.1', ok)
  assert.equal((await post(guard, `http://[::ffff:127.0.0.1]:${v4.port}/hook`)).status, 204)
  assert.equal(v4.requests(), 1)
})
