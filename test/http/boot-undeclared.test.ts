import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyPluginAsync } from 'fastify'
import { buildHttp } from '../../src/http/server.ts'

const pass = async () => {}
const boot = (routes: FastifyPluginAsync[]) => buildHttp({
  logLevel: 'silent', bodyLimit: 1024 * 1024, trustedProxies: [], routes,
  steps: { authenticate: pass, authorize: pass },
})

test('a route that declares neither scopes nor public stops the boot, naming the route', async () => {
  await assert.rejects(boot([async (app) => { app.get('/v1/forgotten', async () => ({ ok: true })) }]),
    /route GET \/v1\/forgotten declares neither config\.scopes nor config\.public/)
})

test('an empty scope list is no declaration, also inside a prefixed plugin', async () => {
  const nested: FastifyPluginAsync = async (app) => {
    await app.register(async (inner) => { inner.post('/thing', { config: { scopes: [] } }, async () => ({})) }, { prefix: '/v1/nested' })
  }
  await assert.rejects(boot([nested]), /route POST \/v1\/nested\/thing declares neither/)
})

test('the same app with every route declared boots (the refusal above is about the declaration)', async () => {
  const app = await boot([async (a) => {
    a.get('/v1/declared', { config: { scopes: ['messages:read'], environment: 'sealed' } }, async () => ({ ok: true }))
    a.get('/v1/open', { config: { public: true, environment: 'any' } }, async () => ({ ok: true }))
  }])
  await app.ready()
  assert.equal((await app.inject({ method: 'GET', url: '/v1/open' })).statusCode, 200)
  await app.close()
})
