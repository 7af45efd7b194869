/**
 * SIGTERM always ends the process within its drain deadline. A client that holds a request
 * open (headers sent, body never finished) makes the HTTP close hang; the hard timer exits
 * anyway, with code 1, logging the step it cut. Without such a client, the drain completes
 * and the process exits 0. Real server processes (`node src/main.ts`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../helpers/server-process.ts'

const DEADLINE_MS = 2000

async function server(t: { after(fn: () => unknown): void }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-sigterm-'))
  const s = await startServer({
    SEALPOST_DATA_DIR: dataDir, SEALPOST_SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS),
    // Long socket timeouts: only the shutdown deadline may end the held request.
    SEALPOST_REQUEST_TIMEOUT_MS: '600000', SEALPOST_HEADERS_TIMEOUT_MS: '600000',
  }, { timeoutMs: 60_000 })
  t.after(async () => { await s.kill('SIGKILL'); rmSync(dataDir, { recursive: true, force: true }) })
  return s
}

async function exitAfterSigterm(s: Awaited<ReturnType<typeof server>>): Promise<{ code: number | null; elapsedMs: number }> {
  const started = Date.now()
  const watchdog = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit ${DEADLINE_MS * 10} ms after SIGTERM:\n${s.output()}`)), DEADLINE_MS * 10).unref())
  void s.kill('SIGTERM')
  const code = await Promise.race([s.exited, watchdog])
  return { code, elapsedMs: Date.now() - started }
}

test('SIGTERM exits within the drain deadline even though close() hangs on a held request', { timeout: 120_000 }, async (t) => {
  const s = await server(t)
  const held = await s.openRaw(`POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${s.testKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"from":`)
  t.after(() => held.destroy())
  // The request is in flight once the server has logged it.
  const end = Date.now() + 20_000
  while (!/"url":"\/v1\/messages"/.test(s.output()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
  assert.match(s.output(), /"url":"\/v1\/messages"/, 'the held request reached the server')

  const { code, elapsedMs } = await exitAfterSigterm(s)
  assert.equal(code, 1)
  assert.ok(elapsedMs >= DEADLINE_MS - 200, `exited by the deadline timer, not before (${elapsedMs} ms)`)
  assert.match(s.output(), /shutdown deadline of 2000 ms passed while closing the app \(HTTP connections/)
})

test('SIGTERM with nothing in flight drains and exits 0 before the deadline', { timeout: 120_000 }, async (t) => {
  const s = await server(t)
  assert.equal((await s.request('GET', '/healthz')).status, 200)
  const { code } = await exitAfterSigterm(s)
  assert.equal(code, 0)
  assert.match(s.output(), /drained; exiting/)
  assert.doesNotMatch(s.output(), /shutdown deadline/)
})
