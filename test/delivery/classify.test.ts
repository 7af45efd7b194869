import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { classifyAccepted, classifyFailure } from '../../src/delivery/classify.ts'
import { describeTlsError, isTlsFailure } from '../../src/delivery/tls-policy.ts'

const where = 'mx.example:25'

describe('SMTP reply classification', () => {
  test('a TLS failure is deferred even when it came with a 5xx reply (nothing was sent)', () => {
    const r = classifyFailure({ code: 'ETLS', message: 'Error upgrading connection with STARTTLS', response: '502 5.5.1 Unrecognized command', responseCode: 502 }, ['a@x.example'], where)
    assert.deepEqual(r.results, [{ address: 'a@x.example', status: 'deferred', detail: 'TLS required, not sent: mx.example:25 does not offer STARTTLS (502 5.5.1 Unrecognized command)', tls: true }])
  })

  test('a certificate error on implicit TLS counts as TLS, not as a plain connection error', () => {
    assert.equal(isTlsFailure({ code: 'ESOCKET', message: 'unable to verify the first certificate', originalCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), true)
    assert.equal(isTlsFailure({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:25' }), false)
  })

  test('OpenSSL noise is reduced to what went wrong', () => {
    const raw = 'Error initiating TLS - 407DA6676A7F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 70'
    assert.equal(describeTlsError(raw), 'the peer offers no TLS 1.2 or newer (tlsv1 alert protocol version)')
    assert.equal(describeTlsError('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), 'self-signed certificate')
  })

  test('every recipient refused at RCPT keeps its own reply; 421/451 ask us to slow down', () => {
    const r = classifyFailure({
      code: 'EENVELOPE', message: "Can't send mail - all recipients were rejected", responseCode: 451,
      rejectedErrors: [
        { recipient: 'a@x.example', responseCode: 550, response: '550 5.1.1 No such user' },
        { recipient: 'b@x.example', responseCode: 451, response: '451 4.7.1 Greylisted' },
      ],
    }, ['a@x.example', 'b@x.example'], where)
    assert.deepEqual(r.results.map((x) => [x.address, x.status, x.code]), [['a@x.example', 'failed', 550], ['b@x.example', 'deferred', 451]])
    assert.equal(r.throttle, '451 4.7.1 Greylisted')
  })

  test('a 5xx to MAIL FROM or DATA fails the whole job; a connection error defers it without throttling', () => {
    const hard = classifyFailure({ code: 'EENVELOPE', message: 'Mail command failed', response: '553 sender rejected', responseCode: 553 }, ['a@x.example', 'b@x.example'], where)
    assert.deepEqual(hard.results.map((x) => x.status), ['failed', 'failed'])
    const down = classifyFailure({ code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' }, ['a@x.example'], where)
    assert.deepEqual([down.results[0].status, down.throttle], ['deferred', null])
    assert.match(down.results[0].detail, /^mx\.example:25: connect ECONNREFUSED/)
  })

  test('accepted recipients are delivered, matched case-insensitively', () => {
    const r = classifyAccepted({ accepted: ['Ann@X.example'], response: '250 2.0.0 queued as 123' }, ['ann@x.example'], where)
    assert.deepEqual(r.results, [{ address: 'ann@x.example', status: 'delivered', detail: '250 2.0.0 queued as 123' }])
  })
})
