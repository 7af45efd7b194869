/**
 * Load shedding: while the event loop's p99 delay is over the threshold, API requests get
 * 503 server_busy with Retry-After before authentication; /healthz and /readyz keep
 * answering; when the loop is calm again, requests are served. The stall is a real one
 * (a busy loop on this process's event loop, where the app runs); the threshold is small.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'

const busyFor = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* stall the loop */ } }

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('a stalled event loop sheds /v1 with 503 server_busy + Retry-After while health and readiness answer 200', async (t) => {
  const app = await buildTestApp({ env: { SEALPOST_SHED_EVENT_LOOP_DELAY_MS: '300' } })
  t.after(() => app.close())
  let stall: NodeJS.Timeout | undefined
  t.after(() => clearInterval(stall))
  const org = await app.seedOrg()
  const list = () => app.http.inject({ method: 'GET', url: '/v1/messages', headers: bearer(org.testKey) })
  assert.equal((await list()).statusCode, 200, 'calm: served')

  // A sustained stall: 400 ms of every 450 ms blocked, so every 1 s window's p99 is over 300 ms.
  stall = setInterval(() => busyFor(400), 450)
  let shed = await list()
  await until('the stall to be sampled', async () => { shed = await list(); return shed.statusCode === 503 })
  assert.equal(shed.json().error.code, 'server_busy')
  assert.equal(shed.headers['retry-after'], '1')
  // Shed before authentication: a request without credentials gets the same answer, not 401.
  const anonymous = await app.http.inject({ method: 'GET', url: '/v1/messages' })
  assert.equal(anonymous.statusCode, 503)
  assert.equal((await app.http.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  assert.equal((await app.http.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  clearInterval(stall)

  await until('the loop to be calm again', async () => (await list()).statusCode === 200)
})

test('SEALPOST_SHED_EVENT_LOOP_DELAY_MS=0 disables shedding', async (t) => {
  const app = await buildTestApp({ env: { SEALPOST_SHED_EVENT_LOOP_DELAY_MS: '0' } })
  t.after(() => app.close())
  busyFor(600)
  await new Promise((r) => setTimeout(r, 1200))
  assert.equal((await app.http.inject({ method: 'GET', url: '/v1/messages' })).statusCode, 401)
})

test('only the liveness and readiness routes are exempt from shedding (route table)', async (t) => {
  const app = await buildTestApp()
  t.after(() => app.close())
  const exempt = app.http.routeTable.filter((r) => r.config.shedExempt).map((r) => `${r.method} ${r.url}`).sort()
  assert.deepEqual(exempt, ['GET /healthz', 'GET /readyz', 'HEAD /healthz', 'HEAD /readyz'])
})
