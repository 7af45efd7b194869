import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createKeyService } from '../../src/keys/service.ts'
import { createOrgKeyPolicy } from '../../src/keys/policy.ts'
import type { AdminEvent } from '../../src/core/audit-sink.ts'
import type { Principal } from '../../src/core/principal.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: key service audit trail`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const events: AdminEvent[] = []
    const keys = createKeyService({
      db: h.db, pepper: h.app.deps.pepper, clock: h.clock, policy: createOrgKeyPolicy({ db: h.db, clock: h.clock }),
      audit: { record: (e) => events.push(e) },
    })
    const keyPrincipal: Principal = { orgId: org.orgId, actor: { type: 'key', id: org.liveKeyId }, scopes: ALL_SCOPES, environment: 'live', credentialId: org.liveKeyId }
    const user: Principal = { orgId: org.orgId, actor: { type: 'user', id: 'usr_x' }, scopes: ALL_SCOPES, environment: 'live', credentialId: 'ses_x' }
    const meta = { ip: '203.0.113.4', requestId: 'req-1' }
    const input = { name: 'n', scopes: ['messages:read' as const], environment: 'live' as const }

    await t.test('create, rotate and revoke are each audited with actor, target, IP and request id, never the secret', async () => {
      const { key, secret } = await keys.create(keyPrincipal, input, meta)
      await keys.rotate(keyPrincipal, key.id as string, { grace_period_seconds: 60 }, meta)
      await keys.revoke(keyPrincipal, key.id as string, meta)
      await keys.revoke(keyPrincipal, key.id as string, meta) // already revoked: no second event
      assert.deepEqual(events.map((e) => e.action), ['key.created', 'key.rotated', 'key.revoked'])
      for (const e of events) {
        assert.equal(e.orgId, org.orgId)
        assert.deepEqual(e.actor, keyPrincipal.actor)
        assert.deepEqual(e.target, { type: 'api_key', id: key.id })
        assert.equal(e.ip, meta.ip)
        assert.equal(e.requestId, meta.requestId)
      }
      assert.ok(!JSON.stringify(events).includes(secret.slice(12)))
    })

    // Step-up for session users is declared per route (config.stepUp) and proven in test/sandbox/step-up.test.ts.
    await t.test('a session user creating a key is recorded as that user', async () => {
      await keys.create(user, input, meta)
      const list = await keys.list(user, {})
      assert.equal(list.data.filter((k) => k.name === 'n' && k.created_by === 'usr_x').length, 1)
    })

    await t.test('changing the key policy is audited', async () => {
      await keys.updatePolicy(keyPrincipal, { max_key_age_days: 90 }, meta)
      const e = events.at(-1)!
      assert.equal(e.action, 'org.key_policy_changed')
      assert.deepEqual(e.details, { max_key_age_days: 90 })
    })
  })
}
