/**
 * Finding 9: one click on a message's List-Unsubscribe suppressed every To recipient. Now each
 * recipient's copy carries a link signed for that recipient alone. Real delivery: the app's own
 * workers send to a loopback TLS sink; the links are read from the copies the sink received.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { testDialects } from '../helpers/dialects.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { testCerts } from '../helpers/certs.ts'
import { createUnsubscribeTokens } from '../../src/suppressions/unsubscribe-token.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const headerOf = (raw: Buffer, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(raw.toString().split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' '))?.[1]

for (const { name, skip } of await testDialects()) {
  test(`${name}: one-click unsubscribe is per recipient`, { skip, timeout: 120_000 }, async (t) => {
    const certs = await testCerts()
    const sink = await startSmtpSink()
    const h = await buildTestApp({ dialect: name, env: { SMTP_URL: sink.url, SMTP_CA_FILE: certs.caFile, DELIVERY_POLL_MS: '20', DELIVERY_SIGNING_THREADS: '0' } })
    t.after(async () => { await h.close(); await sink.close() })
    const org = await h.seedOrg('Acme')
    await h.seedDomain(org.orgId, 'news.acme.test')
    const send = (body: object) => h.http.inject({ method: 'POST', url: '/v1/messages', headers: bearer(org.liveKey), payload: { from: 'news@news.acme.test', subject: 'News', text: 'Hi', ...body } })
    const click = (path: string) => h.http.inject({ method: 'POST', url: path, headers: FORM, payload: 'List-Unsubscribe=One-Click' })
    const suppressed = async () => ((await h.http.inject({ method: 'GET', url: '/v1/suppressions', headers: bearer(org.liveKey) })).json().data as { address: string }[]).map((s) => s.address).sort()

    const sent = await send({ to: ['ann@example.com', 'bob@example.com'], cc: ['carol@example.net'], unsubscribe: true })
    assert.equal(sent.statusCode, 202, sent.body)
    const workers = await h.app.startWorkers()
    await sink.waitForMessages(3)
    await workers.stop()

    // Each copy: one envelope recipient, its own link.
    const links = new Map<string, string>()
    for (const m of sink.messages) {
      assert.equal(m.envelope.rcptTo.length, 1)
      const header = headerOf(m.raw, 'List-Unsubscribe')!
      assert.match(header, /^<https:\/\/[^>]+\/v1\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}>$/)
      assert.equal(headerOf(m.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click')
      links.set(m.envelope.rcptTo[0], new URL(header.slice(1, -1)).pathname)
    }
    assert.deepEqual([...links.keys()].sort(), ['ann@example.com', 'bob@example.com', 'carol@example.net'])
    assert.equal(new Set(links.values()).size, 3, 'three different links')
    const status = (await h.http.inject({ method: 'GET', url: `/v1/messages/${sent.json().id}`, headers: bearer(org.liveKey) })).json()
    assert.equal(status.status, 'delivered')

    await t.test('GET of a link changes nothing', async () => {
      const view = await h.http.inject({ method: 'GET', url: links.get('ann@example.com')! })
      assert.equal(view.statusCode, 200)
      assert.deepEqual(await suppressed(), [])
    })

    await t.test('one click on a 3-recipient message suppresses exactly the recipient whose copy it came from', async () => {
      // The Cc recipient: its link's index points past the To list.
      const r = await click(links.get('carol@example.net')!)
      assert.equal(r.statusCode, 200, r.body)
      assert.deepEqual(r.json(), { unsubscribed: true })
      assert.deepEqual(await suppressed(), ['carol@example.net'])
      const again = await click(links.get('carol@example.net')!)
      assert.equal(again.statusCode, 200, 'a replayed click is harmless')
      assert.deepEqual(await suppressed(), ['carol@example.net'])
      const next = await send({ to: ['ann@example.com', 'bob@example.com'], cc: ['carol@example.net'] })
      const g = (await h.http.inject({ method: 'GET', url: `/v1/messages/${next.json().id}`, headers: bearer(org.liveKey) })).json()
      assert.deepEqual([g.to, g.cc], [['ann@example.com', 'bob@example.com'], []])
    })

    await t.test('a link re-pointed at another recipient (same MAC, other index) is refused and suppresses nobody', async () => {
      const [payload, mac] = links.get('bob@example.com')!.split('/').pop()!.split('.')
      const [orgId, messageId] = Buffer.from(payload, 'base64url').toString().split('.')
      for (const index of ['0', '2', '01', '-1', '1.0', '']) {
        const forged = `${Buffer.from(`${orgId}.${messageId}.${index}`).toString('base64url')}.${mac}`
        const r = await click(`/v1/unsubscribe/${forged}`)
        assert.equal(r.statusCode, 404, `index ${index}`)
        assert.equal(r.json().error.code, 'not_found')
      }
      assert.deepEqual(await suppressed(), ['carol@example.net'])
    })

    await t.test('a validly signed payload with a malformed index is refused (the index is parsed strictly)', () => {
      const key = Buffer.from(hkdfSync('sha256', h.app.deps.pepper, 'sealpost', 'unsubscribe-link-v1', 32))
      const tokens = createUnsubscribeTokens(h.app.deps.pepper)
      for (const index of ['01', '-1', '1.5', '1e3', ' 1', '9999999']) {
        const payload = Buffer.from(`${org.orgId}.msg_x.${index}`).toString('base64url')
        const token = `${payload}.${createHmac('sha256', key).update(payload).digest().subarray(0, 16).toString('base64url')}`
        assert.equal(tokens.verify(token), null, index)
      }
      assert.deepEqual(tokens.verify(tokens.sign(org.orgId, 'msg_x', 7)), { orgId: org.orgId, messageId: 'msg_x', recipient: 7 })
    })

    await t.test('links minted before per-recipient links: honoured for a single-recipient message only', async () => {
      // The old format, signed as the server signed it: base64url(orgId.messageId).mac.
      const key = Buffer.from(hkdfSync('sha256', h.app.deps.pepper, 'sealpost', 'unsubscribe-link-v1', 32))
      const legacy = (messageId: string) => {
        const payload = Buffer.from(`${org.orgId}.${messageId}`).toString('base64url')
        return `/v1/unsubscribe/${payload}.${createHmac('sha256', key).update(payload).digest().subarray(0, 16).toString('base64url')}`
      }
      const several = await send({ to: ['dan@example.com', 'erin@example.com'], unsubscribe: true })
      assert.equal((await click(legacy(several.json().id))).statusCode, 404)
      assert.deepEqual(await suppressed(), ['carol@example.net'], 'never several people at once')
      const single = await send({ to: ['frank@example.com'], unsubscribe: true })
      assert.equal((await click(legacy(single.json().id))).statusCode, 200)
      assert.deepEqual(await suppressed(), ['carol@example.net', 'frank@example.com'])
    })
  })
}
