/**
 * The delivery ceiling: raw nodemailer with its connection pool (default pool
 * settings: 5 connections, 100 messages each), DKIM-signing every message with
 * the same RSA-2048 key, sending the same messages to the same sink. No
 * database, no queue, no encryption: a naive send loop.
 * Usage: node bench/servers/nodemailer-baseline.ts '<BaselineSpec JSON>'
 */
import nodemailer from 'nodemailer'
import { readFileSync } from 'node:fs'
import { messageBody } from '../lib/payload.ts'

interface BaselineSpec {
  port: number
  caFile: string
  count: number
  from: string
  to: string
  dkim: { domainName: string; keySelector: string; privateKeyFile: string }
}

const spec = JSON.parse(process.argv[2]) as BaselineSpec
const transport = nodemailer.createTransport({
  pool: true,
  host: '127.0.0.1',
  port: spec.port,
  secure: false,
  requireTLS: true,
  tls: { ca: readFileSync(spec.caFile), minVersion: 'TLSv1.2', servername: 'localhost' },
  dkim: { domainName: spec.dkim.domainName, keySelector: spec.dkim.keySelector, privateKey: readFileSync(spec.dkim.privateKeyFile, 'utf8') },
})

const body = messageBody(spec.from, spec.to) as { from: string; to: string[]; subject: string; text: string; html: string }
const started = Date.now()
let failed = 0
await Promise.all(Array.from({ length: spec.count }, (_, i) =>
  transport.sendMail({ ...body, subject: `${body.subject} #${i}` }).catch((e: Error) => {
    if (failed++ === 0) console.error(e.message)
  })))
transport.close()
process.stdout.write(JSON.stringify({ sent: spec.count - failed, failed, ms: Date.now() - started }) + '\n')
