import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { createKeyService } from '../../src/keys/service.ts'
import { createOrgKeyPolicy } from '../../src/keys/policy.ts'
import { AppError } from '../../src/core/errors.ts'
import type { AdminEvent } from '../../src/core/audit-sink.ts'
import type { Principal } from '../../src/core/principal.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: key service audit trail and step-up`, { skip }, async (t) => {
    const h = await buildTestApp({ dialect: name })
    t.after(() => h.close())
    const org = await h.seedOrg()
    const events: AdminEvent[] = []
    const stepUpCalls: Principal[] = []
    let stepUpFresh = true
    const keys = createKeyService({
      db: h.db, pepper: h.app.deps.pepper, clock: h.clock, policy: createOrgKeyPolicy({ db: h.db, clock: h.clock }),
      audit: { record: (e) => events.push(e) },
      stepUp: (p) => {
        stepUpCalls.push(p)
        if (!stepUpFresh) throw new AppError('step_up_required', 'Confirm it is you.')
      },
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
      assert.deepEqual(stepUpCalls, [], 'API keys are machine credentials: no step-up')
    })

    await t.test('a session user must pass step-up to create or rotate; a stale factor stops it before any secret exists', async () => {
      const created = await keys.create(user, input, meta)
      assert.equal(stepUpCalls.length, 1)
      stepUpFresh = false
      const before = events.length
      await assert.rejects(keys.create(user, input, meta), (e: AppError) => e.code === 'step_up_required')
      await assert.rejects(keys.rotate(user, created.key.id as string, {}, meta), (e: AppError) => e.code === 'step_up_required')
      assert.equal(events.length, before, 'nothing happened, nothing audited')
      const list = await keys.list(user, {})
      assert.equal(list.data.filter((k) => k.name === 'n' && k.created_by === 'usr_x').length, 1)
      stepUpFresh = true
    })

    await t.test('changing the key policy is audited', async () => {
      await keys.updatePolicy(keyPrincipal, { max_key_age_days: 90 }, meta)
      const e = events.at(-1)!
      assert.equal(e.action, 'org.key_policy_changed')
      assert.deepEqual(e.details, { max_key_age_days: 90 })
    })
  })
}
