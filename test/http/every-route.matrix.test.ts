import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { BUILTIN_ROLES } from '../../src/access/roles.ts'
import { hasScopes } from '../../src/access/authorize.ts'
import { createKey } from '../../src/keys/service.ts'
import { isV1, label, probe, routesOf } from './every-route.shared.ts'

/**
 * Role x route, generated from the route table: for each built-in role, a key holding exactly that
 * role's scopes calls every protected /v1 route. Where the role has the route's scopes, the call gets
 * past authorization (anything but 401/403, and never a 5xx: with placeholder ids and an empty body
 * a 400 or 404 is expected; a GET without an id must be a 200); everywhere else it is a 403 `insufficient_scope`, before the handler, so
 * never a 404 or a 500 that would leak whether an object exists.
 */
for (const { name, skip } of await testDialects()) {
  test(`${name}: role x route authorization matrix`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const routes = routesOf(h).filter((r) => isV1(r) && !r.config.public)

    for (const [role, scopes] of Object.entries(BUILTIN_ROLES)) {
      await t.test(`${role}`, async () => {
        const { secret } = await createKey(h.db, h.app.deps.pepper, h.clock, { orgId: org.orgId, name: `role ${role}`, environment: 'live', scopes })
        const principal = { scopes }
        const wrong: string[] = []
        let allowed = 0
        for (const route of routes) {
          const res = await probe(h, route, { key: secret })
          const may = hasScopes(principal as any, route.config.scopes ?? [])
          if (may) {
            allowed++
            if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) wrong.push(`${label(route)} should pass authorization, got ${res.statusCode} ${res.body.slice(0, 120)}`)
            // A read that needs no id or body has nothing to refuse: it must simply succeed.
            else if (route.method === 'GET' && !route.url.includes(':') && res.statusCode !== 200) wrong.push(`${label(route)} should succeed, got ${res.statusCode} ${res.body.slice(0, 120)}`)
          } else if (res.statusCode !== 403 || res.json().error.code !== 'insufficient_scope') {
            wrong.push(`${label(route)} should be 403 insufficient_scope, got ${res.statusCode} ${res.body.slice(0, 120)}`)
          }
        }
        assert.deepEqual(wrong, [])
        assert.ok(allowed > 0, `${role} can call nothing at all`)
      })
    }
  })
}
