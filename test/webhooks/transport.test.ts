import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { postGuarded } from '../../src/monitoring/webhook.ts'
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
  await assert.rejects(postGuarded({ url, headers: {}, body: '{}', timeoutMs: 150, allowPrivate: true }), /timed out after 150 ms/)
})

test('the guard refuses before connecting, and only http(s) is spoken', async () => {
  await assert.rejects(postGuarded({ url: 'http://127.0.0.1:9/x', headers: {}, body: '{}', timeoutMs: 1000, allowPrivate: false }), /non-public address \(loopback\)/)
  await assert.rejects(postGuarded({ url: 'http://internal.test/x', headers: {}, body: '{}', timeoutMs: 1000, allowPrivate: false, resolve: async () => ['192.168.1.20'] }), /non-public address \(private\)/)
  await assert.rejects(postGuarded({ url: 'http://nothing.test/x', headers: {}, body: '{}', timeoutMs: 1000, allowPrivate: false, resolve: async () => [] }), /does not resolve/)
  await assert.rejects(postGuarded({ url: 'ftp://93.184.216.34/x', headers: {}, body: '{}', timeoutMs: 1000, allowPrivate: true }), /must be http/)
})
