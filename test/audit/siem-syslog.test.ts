import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildTestApp, bearer } from '../helpers/harness.ts'
import { formatRfc5424, octetFrame, SD_ID } from '../../src/audit/syslog-format.ts'
import { createSyslogForwarder } from '../../src/audit/syslog-forwarder.ts'
import { RSYSLOGD, startRsyslog, waitFor } from './rsyslog.ts'

const skip = !RSYSLOGD && process.env.CI !== 'true' ? 'rsyslogd is not installed (mandatory when CI=true)' : false

test('RFC 5424 formatting escapes structured data and frames by octet count', () => {
  const msg = formatRfc5424({
    id: 'aud_x', chain_id: 'org_a', seq: 7, org_id: 'org_a', ts: '2026-01-02T03:04:05.678Z', occurred_at: 0, action: 'key.created',
    actor_type: 'user', actor_id: 'usr_"]\\', method: null, route: null, path: null, status: null, ip: '203.0.113.5',
    user_agent: null, request_id: null, duration_ms: null, auth_failure: null, target_type: null, target_id: null,
    outcome: 'success', details: '{"name":"é"}', prev_hash: 'p', hash: 'h',
  }, { hostname: 'api 1', procId: 42 })
  assert.match(msg, /^<109>1 2026-01-02T03:04:05.678Z api1 sealpost 42 key.created \[/)
  assert.ok(msg.includes(`[${SD_ID} id="aud_x" org="org_a" seq="7" hash="h" actor="user:usr_\\"\\]\\\\" ip="203.0.113.5"]`))
  const frame = octetFrame(msg)
  const space = frame.indexOf(0x20)
  assert.equal(Number(frame.subarray(0, space).toString()), frame.length - space - 1)
})

test('audit events stream to a real rsyslog receiver over TLS', { skip }, async (t) => {
  const rs = await startRsyslog()
  t.after(() => rs.stop())
  const h = await buildTestApp({ env: { AUDIT_SYSLOG_URL: `tls://localhost:${rs.port}`, AUDIT_SYSLOG_CA_FILE: rs.caFile } })
  t.after(() => h.close())
  const org = await h.seedOrg('Acme')

  await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { ...bearer(org.liveKey), 'x-request-id': 'req-siem-000001' } })
  await h.http.inject({ method: 'GET', url: '/v1/keys', headers: { ...bearer(org.liveKey.slice(0, -4) + 'AAAA'), 'x-request-id': 'req-siem-000002' } })
  h.app.audit.recorder.record({ orgId: org.orgId, actor: { type: 'user', id: 'usr_admin' }, action: 'role.changed', details: { role: 'admin', password: 'hunter2-MARKER' } })
  await h.app.audit.writer.flush()

  await waitFor(() => rs.output().includes('role.changed') && rs.output().includes('req-siem-000002'))
  const lines = rs.output().trim().split('\n')
  const api = lines.find((l) => l.includes('req-siem-000001'))!
  // PRI 110 = facility 13 (log audit), severity 6 (info); rsyslog parsed APP-NAME, MSGID and SD.
  assert.match(api, new RegExp(`^110 sealpost api.request \\[${SD_ID} id="aud_[0-9a-z]+" org="${org.orgId}" seq="\\d+" hash="[0-9a-f]{64}" actor="key:${org.liveKeyId}" status="200"`))
  const body = JSON.parse(api.slice(api.indexOf('{')))
  assert.equal(body.route, '/v1/keys')
  assert.equal(body.requestId, 'req-siem-000001')
  const denied = lines.find((l) => l.includes('req-siem-000002'))!
  assert.match(denied, /^108 sealpost api.request /) // warning: a 401
  const admin = lines.find((l) => l.includes('role.changed'))!
  assert.match(admin, /^109 sealpost role.changed /)
  assert.ok(!rs.output().includes('hunter2-MARKER'))
  // Each event arrives once, and in chain order.
  const seqs = lines.filter((l) => l.includes(`org="${org.orgId}"`)).map((l) => Number(/seq="(\d+)"/.exec(l)![1]))
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b))
  assert.equal(new Set(seqs).size, seqs.length)
})

test('the forwarder refuses a receiver whose certificate it cannot verify', { skip }, async (t) => {
  const rs = await startRsyslog()
  t.after(() => rs.stop())
  const errors: Error[] = []
  const fwd = createSyslogForwarder({ url: `tls://localhost:${rs.port}`, onError: (e) => errors.push(e) })
  fwd.send([{
    id: 'aud_untrusted', chain_id: 'c', seq: 1, org_id: null, ts: new Date().toISOString(), occurred_at: 0, action: 'test.untrusted',
    actor_type: null, actor_id: null, method: null, route: null, path: null, status: null, ip: null, user_agent: null,
    request_id: null, duration_ms: null, auth_failure: null, target_type: null, target_id: null, outcome: null, details: null, prev_hash: 'p', hash: 'h',
  }])
  await waitFor(() => errors.length > 0)
  await fwd.close(100)
  assert.match(errors[0].message, /self.signed|unable to (verify|get)|certificate/i)
  assert.equal(fwd.stats().connected, false)
  assert.ok(!rs.output().includes('aud_untrusted'))
})
