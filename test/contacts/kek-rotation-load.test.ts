import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { rotateKek } from '../../src/crypto/kek-rotation.ts'
import { countDeksByKek } from '../../src/crypto/dek-store.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: KEK rotation while contacts are created, read, listed and updated over HTTP`, { skip, timeout: 120_000 }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const call = (method: string, url: string, payload?: unknown) =>
      h.http.inject({ method: method as any, url, headers: bearer(org.liveKey), ...(payload ? { payload: payload as any } : {}) })
    const ids: string[] = []
    for (let i = 0; i < 40; i++) ids.push((await call('POST', '/v1/contacts', { email: `seed${i}@example.com`, first_name: `Seed ${i}` })).json().id)

    let stop = false
    let n = 0
    const failures: string[] = []
    async function client(c: number) {
      while (!stop) {
        const i = n++
        const id = ids[i % ids.length]
        // Every 10th request starts from a cold key cache, as a freshly started process would.
        if (i % 10 === 0) h.app.envelope.forgetKeys()
        const r = i % 4 === 0 ? await call('POST', '/v1/contacts', { email: `load${c}-${i}@example.com`, last_name: 'Load' })
          : i % 4 === 1 ? await call('GET', `/v1/contacts/${id}`)
            : i % 4 === 2 ? await call('GET', '/v1/contacts?limit=10')
              : await call('PATCH', `/v1/contacts/${id}`, { attributes: { n: String(i) } })
        if (r.statusCode >= 300) failures.push(`${r.statusCode} ${r.body}`)
        if (r.statusCode === 201) ids.push(r.json().id)
      }
    }
    const clients = Array.from({ length: 4 }, (_, c) => client(c))
    const before = n
    const result = await rotateKek({ db: h.db, provider: h.app.envelope.provider, clock: h.clock, batchSize: 5 })
    const during = n - before
    const until = n + 20
    while (n < until) await new Promise((r) => setImmediate(r))
    stop = true
    await Promise.all(clients)

    assert.deepEqual(failures, [], 'zero failed requests')
    assert.ok(during > 0, 'requests ran while DEKs were being re-wrapped')
    assert.deepEqual(result.retired, [result.from])
    assert.deepEqual([...(await countDeksByKek(h.db)).keys()], [result.to], 'no DEK is wrapped by the old KEK')
    h.app.envelope.forgetKeys()
    for (const id of ids.slice(0, 40)) assert.equal((await call('GET', `/v1/contacts/${id}`)).statusCode, 200)
  })
}
