/**
 * A TXT-only authoritative DNS server on loopback (UDP and TCP, one port), for black-box tests of
 * domain verification: the server process is pointed at it with SEALPOST_DNS_SERVERS. It answers
 * TXT questions from `zone` (name → records) and NXDOMAIN for anything else. Test-only: it parses
 * exactly one question and ignores the rest of the packet (EDNS options included).
 */
import { createSocket } from 'node:dgram'
import { createServer, type Socket } from 'node:net'
import { once } from 'node:events'

export interface DnsServer {
  /** `127.0.0.1:<port>`, the SEALPOST_DNS_SERVERS value. */
  address: string
  zone: Map<string, string[]>
  /** Adds records (several at one name are kept side by side). */
  publish(records: { name: string; value: string }[]): void
  close(): Promise<void>
}

const TXT = 16

function question(msg: Buffer): { name: string; end: number; type: number } | null {
  if (msg.length < 17 || msg.readUInt16BE(4) !== 1) return null
  const labels: string[] = []
  let i = 12
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]
    if (len > 63 || i + 1 + len > msg.length) return null
    labels.push(msg.toString('latin1', i + 1, i + 1 + len))
    i += 1 + len
  }
  if (i + 5 > msg.length) return null
  return { name: labels.join('.').toLowerCase(), end: i + 5, type: msg.readUInt16BE(i + 1) }
}

/** TXT rdata: each record as character-strings of at most 255 bytes. */
function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8')
  const parts: Buffer[] = []
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255)
    parts.push(Buffer.from([chunk.length]), chunk)
  }
  return Buffer.concat(parts)
}

function answer(query: Buffer, zone: Map<string, string[]>): Buffer | null {
  const q = question(query)
  if (!q) return null
  const records = q.type === TXT ? (zone.get(q.name) ?? []) : []
  const known = zone.has(q.name)
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0)
  // QR, AA, RD copied, RA; rcode NXDOMAIN (3) for an unknown name.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(records.length, 6)
  const answers = records.map((value) => {
    const rdata = txtRdata(value)
    const rr = Buffer.alloc(12)
    rr.writeUInt16BE(0xc00c, 0) // pointer to the question's name
    rr.writeUInt16BE(TXT, 2)
    rr.writeUInt16BE(1, 4) // IN
    rr.writeUInt32BE(5, 6) // TTL
    rr.writeUInt16BE(rdata.length, 10)
    return Buffer.concat([rr, rdata])
  })
  return Buffer.concat([header, query.subarray(12, q.end), ...answers])
}

export async function startDnsServer(): Promise<DnsServer> {
  const zone = new Map<string, string[]>()
  const tcp = createServer((socket: Socket) => {
    let buf = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), zone)
        buf = buf.subarray(2 + buf.readUInt16BE(0))
        if (!reply) { socket.destroy(); return }
        const len = Buffer.alloc(2)
        len.writeUInt16BE(reply.length)
        socket.write(Buffer.concat([len, reply]))
      }
    })
    socket.on('error', () => socket.destroy())
  })
  tcp.listen(0, '127.0.0.1')
  await once(tcp, 'listening')
  const port = (tcp.address() as { port: number }).port
  const udp = createSocket('udp4')
  udp.on('message', (msg, rinfo) => {
    const reply = answer(msg, zone)
    if (!reply) return
    if (reply.length > 512) {
      // Truncated: the client asks again over TCP.
      const tc = Buffer.from(reply.subarray(0, 12))
      tc.writeUInt16BE(tc.readUInt16BE(2) | 0x0200, 2)
      tc.writeUInt16BE(0, 6)
      const q = question(msg)!
      udp.send(Buffer.concat([tc, msg.subarray(12, q.end)]), rinfo.port, rinfo.address)
      return
    }
    udp.send(reply, rinfo.port, rinfo.address)
  })
  udp.bind(port, '127.0.0.1')
  await once(udp, 'listening')
  return {
    address: `127.0.0.1:${port}`,
    zone,
    publish(records) {
      for (const r of records) zone.set(r.name.toLowerCase(), [...(zone.get(r.name.toLowerCase()) ?? []), r.value])
    },
    async close() {
      udp.close()
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}
