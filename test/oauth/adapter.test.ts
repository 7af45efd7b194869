import { test } from 'node:test'
import assert from 'node:assert/strict'
import { testDialects } from '../helpers/dialects.ts'
import { cryptoFixture } from '../crypto/helpers.ts'
import { createAdapterFactory } from '../../src/oauth/adapter.ts'
import { createAtRest } from '../../src/oauth/at-rest.ts'

for (const { name, skip } of await testDialects()) {
  test(`${name}: oidc-provider adapter on Kysely`, { skip }, async (t) => {
    const f = await cryptoFixture(name)
    t.after(() => f.close())
    const h = { db: f.storage.db, clock: f.clock }
    const revoked: string[] = []
    const factory = createAdapterFactory({
      db: h.db, clock: h.clock, atRest: createAtRest(f.envelope),
      findClient: async (id) => (id === 'known' ? { client_id: 'known' } : undefined),
      onGrantRevoked: async (g) => { revoked.push(g) },
    })
    const codes = factory('AuthorizationCode')
    const refresh = factory('RefreshToken')
    const sessions = factory('Session')
    const devices = factory('DeviceCode')

    await t.test('upsert then find returns the payload; ids and payload are not stored in clear', async () => {
      await codes.upsert('code-secret-1', { grantId: 'grant-marker-7f3e', accountId: 'usr_marker_51c2', scope: 'messages:read' } as any, 60)
      assert.deepEqual(await codes.find('code-secret-1'), { grantId: 'grant-marker-7f3e', accountId: 'usr_marker_51c2', scope: 'messages:read' })
      assert.equal(await codes.find('code-secret-2'), undefined)
      assert.equal(await refresh.find('code-secret-1'), undefined, 'models do not share ids')
      const dump = JSON.stringify(await h.db.selectFrom('oauth_artifacts').selectAll().execute())
      for (const s of ['code-secret-1', 'usr_marker_51c2', 'grant-marker-7f3e', 'messages:read']) assert.ok(!dump.includes(s), s)
    })

    await t.test('upsert replaces', async () => {
      await codes.upsert('code-secret-1', { grantId: 'grant-marker-7f3e', accountId: 'usr_2' } as any, 60)
      assert.equal((await codes.find('code-secret-1'))!.accountId, 'usr_2')
    })

    await t.test('expiry follows the clock', async () => {
      await codes.upsert('short', { grantId: 'g9' } as any, 30)
      h.clock.advance(31_000)
      assert.equal(await codes.find('short'), undefined)
    })

    await t.test('consume marks it; a second consume loses and revokes the grant', async () => {
      await refresh.upsert('rt-1', { grantId: 'g2' } as any, 3600)
      await refresh.upsert('rt-2', { grantId: 'g2' } as any, 3600)
      await refresh.consume('rt-1')
      assert.equal(typeof (await refresh.find('rt-1'))!.consumed, 'number')
      await assert.rejects(refresh.consume('rt-1'), (e: any) => e.error === 'invalid_grant')
      assert.equal(await refresh.find('rt-2'), undefined)
      assert.ok(revoked.includes('g2'))
    })

    await t.test('concurrent consumes: exactly one wins', async () => {
      await codes.upsert('race', { grantId: 'g3' } as any, 60)
      const results = await Promise.allSettled([codes.consume('race'), codes.consume('race'), codes.consume('race')])
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    })

    await t.test('findByUid and findByUserCode', async () => {
      await sessions.upsert('sess-cookie', { uid: 'uid-1', accountId: 'usr_1' } as any, 600)
      assert.equal((await sessions.findByUid('uid-1'))!.accountId, 'usr_1')
      assert.equal(await sessions.findByUid('uid-2'), undefined)
      await devices.upsert('dc-1', { userCode: 'ABCDEFGH', grantId: 'g4' } as any, 600)
      assert.equal((await devices.findByUserCode('ABCDEFGH'))!.grantId, 'g4')
    })

    await t.test('destroy and revokeByGrantId', async () => {
      await codes.upsert('d1', { grantId: 'g5' } as any, 60)
      await codes.destroy('d1')
      assert.equal(await codes.find('d1'), undefined)
      await codes.upsert('c5', { grantId: 'g6' } as any, 60)
      await refresh.upsert('r5', { grantId: 'g6' } as any, 60)
      await codes.revokeByGrantId('g6')
      assert.equal(await codes.find('c5'), undefined)
      assert.ok(await refresh.find('r5'), 'only the model asked')
      await factory('AccessToken').revokeByGrantId('g6')
      assert.ok(revoked.includes('g6'), 'AccessToken revocation reports the grant')
    })

    await t.test('clients come from the client table and cannot be written', async () => {
      const clients = factory('Client')
      assert.deepEqual(await clients.find('known'), { client_id: 'known' })
      await assert.rejects(clients.upsert('x', {} as any, 1))
    })
  })
}
