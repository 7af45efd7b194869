/**
 * Slow clients cannot hold a socket: a body trickled one byte at a time is cut at the
 * request timeout, headers trickled at the headers timeout, both with a 408 in the API's
 * error format, and the connection closed. Short timeouts configured; watchdogs 10x.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { buildTestApp, type TestApp } from '../helpers/harness.ts'

const REQUEST_MS = 2000
const HEADERS_MS = 1000

async function listening(): Promise<{ t: TestApp; port: number; key: string }> {
  const t = await buildTestApp({ env: { SEALPOST_REQUEST_TIMEOUT_MS: String(REQUEST_MS), SEALPOST_HEADERS_TIMEOUT_MS: String(HEADERS_MS) } })
  const org = await t.seedOrg()
  await t.http.listen({ host: '127.0.0.1', port: 0 })
  return { t, port: (t.http.server.address() as AddressInfo).port, key: org.testKey }
}

/** Writes `head`, then one byte of `trickle` every `everyMs`; resolves with what the server sent once it closes. */
function trickle(port: number, head: string, rest: string, everyMs: number): Promise<{ received: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket: Socket = connect(port, '127.0.0.1')
    let received = ''
    let i = 0
    let timer: NodeJS.Timeout | undefined
    const watchdog = setTimeout(() => { socket.destroy(); reject(new Error(`still open after ${REQUEST_MS * 10} ms; got ${received}`)) }, REQUEST_MS * 10)
    socket.setEncoding('utf8')
    socket.on('data', (d) => { received += d })
    socket.on('error', () => { /* reset after the answer is fine */ })
    socket.on('close', () => { clearInterval(timer); clearTimeout(watchdog); resolve({ received, elapsedMs: Date.now() - started }) })
    socket.on('connect', () => {
      socket.write(head)
      timer = setInterval(() => { if (i < rest.length && socket.writable) socket.write(rest[i++]) }, everyMs)
    })
  })
}

const parse = (raw: string) => {
  const [head, body] = raw.split('\r\n\r\n')
  return { statusLine: head.split('\r\n')[0], headers: head.toLowerCase(), body: JSON.parse(body) }
}

test('a body trickled one byte every 300 ms is cut at the request timeout with a 408 JSON error', async (t) => {
  const { t: app, port, key } = await listening()
  t.after(() => app.close())
  const body = JSON.stringify({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 'x'.repeat(200) })
  const head = `POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  const { received, elapsedMs } = await trickle(port, head, body, 300)
  const res = parse(received)
  assert.equal(res.statusLine, 'HTTP/1.1 408 Request Timeout')
  assert.match(res.headers, /content-type: application\/json/)
  assert.equal(res.body.error.code, 'request_timeout')
  assert.ok(elapsedMs >= REQUEST_MS - 100, `cut by the timeout, not earlier (${elapsedMs} ms)`)
})

test('headers trickled one byte every 200 ms are cut at the headers timeout with a 408 JSON error', async (t) => {
  const { t: app, port } = await listening()
  t.after(() => app.close())
  const { received, elapsedMs } = await trickle(port, 'GET /healthz HTTP/1.1\r\n', `Host: localhost\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 200)
  const res = parse(received)
  assert.equal(res.statusLine, 'HTTP/1.1 408 Request Timeout')
  assert.equal(res.body.error.code, 'request_timeout')
  assert.ok(elapsedMs >= HEADERS_MS - 100, `cut by the headers timeout (${elapsedMs} ms)`)
  assert.ok(elapsedMs < REQUEST_MS + 1000, `before the request timeout would have (${elapsedMs} ms)`)
})

test('a client sending at normal speed is not affected', async (t) => {
  const { t: app, port } = await listening()
  t.after(() => app.close())
  const res = await fetch(`http://127.0.0.1:${port}/healthz`)
  assert.equal(res.status, 200)
})

test('the timeouts are configuration, validated', async () => {
  const { loadConfig } = await import('../../src/config/load.ts')
  assert.throws(() => loadConfig({ SEALPOST_REQUEST_TIMEOUT_MS: '5000', SEALPOST_HEADERS_TIMEOUT_MS: '6000' }), /SEALPOST_HEADERS_TIMEOUT_MS: must be <= SEALPOST_REQUEST_TIMEOUT_MS/)
  assert.throws(() => loadConfig({ SEALPOST_REQUEST_TIMEOUT_MS: '10' }), /SEALPOST_REQUEST_TIMEOUT_MS: must be >= 1000/)
})
