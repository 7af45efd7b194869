/**
 * The receiving end of the delivery scenarios: smtp-server on loopback with
 * STARTTLS (TLS 1.2+), counting messages and checking each carries a DKIM
 * signature. The parent drives it over IPC:
 *   → { cmd: 'expect', n }   ← { done: true, ... } once n more messages arrived
 *   → { cmd: 'stats' }       ← { stats: true, ... }
 * Usage: node bench/servers/smtp-sink.ts <keyFile> <certFile>
 */
import { SMTPServer } from 'smtp-server'
import { readFileSync } from 'node:fs'

const [keyFile, certFile] = process.argv.slice(2)
let received = 0
let signed = 0
let connections = 0
let firstAt = 0
let lastAt = 0
let target = Infinity

const server = new SMTPServer({
  secure: false,
  key: readFileSync(keyFile),
  cert: readFileSync(certFile),
  minVersion: 'TLSv1.2',
  authOptional: true,
  disabledCommands: ['AUTH'],
  logger: false,
  size: 30 * 1024 * 1024,
  onConnect(_session, cb) { connections++; cb() },
  onData(stream, _session, cb) {
    let head = ''
    let inHead = true
    stream.on('data', (chunk: Buffer) => {
      if (!inHead) return
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n') || head.length > 64 * 1024) inHead = false
    })
    stream.on('end', () => {
      const now = Date.now()
      if (received === 0) firstAt = now
      lastAt = now
      received++
      if (/^DKIM-Signature:/im.test(head.slice(0, head.indexOf('\r\n\r\n') >>> 0))) signed++
      cb(null, 'queued')
      if (received >= target) { target = Infinity; process.send?.({ done: true, ...stats() }) }
    })
  },
})

function stats() {
  return { received, signed, connections, firstAt, lastAt }
}

process.on('message', (m: any) => {
  if (m.cmd === 'expect') {
    received = 0; signed = 0; connections = 0; firstAt = 0; lastAt = 0
    target = m.n
    process.send?.({ expecting: true })
  } else if (m.cmd === 'stats') {
    process.send?.({ stats: true, ...stats() })
  }
})

server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as { port: number }
  process.send?.({ ready: true, port })
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
