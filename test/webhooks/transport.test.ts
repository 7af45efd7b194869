import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { createOutboundGuard } from '../../src/net/guard.ts'
import { DEFAULT_DISPATCHER_CONFIG } from '../../src/webhooks/dispatcher.ts'

test('webhook POSTs time out after 10 s by default', () => {
  assert.equal(DEFAULT_DISPATCHER_CONFIG.timeoutMs, 10_000)
  assert.ok(DEFAULT_DISPATCHER_CONFIG.leaseMs > DEFAULT_DISPATCHER_CONFIG.timeoutMs * 2, 'a live dispatcher never loses its lease mid-POST')
})

test('a receiver that never answers is cut off at the timeout, with an error that says so', async (t) => {
  const server = createServer(() => { /* never answers */ })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`
  await assert.rejects(createOutboundGuard({ allowPrivate: true }).post({ url, headers: {}, body: '{}', timeoutMs: 150 }), /timed out after 150 ms/)
})

test('the guard refuses before connecting, and only http(s) is spoken', async () => {
  const strict = createOutboundGuard({ allowPrivate: false, resolve: async (host) => (host === 'internal.example.com' ? ['192.168.1.20'] : []) })
  const post = (url: string) => strict.post({ url, headers: {}, body: '{}', timeoutMs: 1000 })
  await assert.rejects(post('https://127.0.0.1:8443/x'), /non-public address: loopback \(RFC 1122\)/)
  await assert.rejects(post('https://internal.example.com/x'), /non-public address: private-use \(RFC 1918\)/)
  await assert.rejects(post('https://nothing.example.com/x'), /does not resolve/)
  await assert.rejects(post('http://93.184.216.34/x'), /scheme http: is not allowed/)
  await assert.rejects(createOutboundGuard({ allowPrivate: true }).post({ url: 'ftp://93.184.216.34/x', headers: {}, body: '{}', timeoutMs: 1000 }), /scheme ftp: is not allowed/)
})
