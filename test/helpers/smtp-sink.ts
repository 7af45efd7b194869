import { EventEmitter, once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server'
import { testCerts, type KeyPair } from './certs.ts'

export interface SinkReply { code: number; message: string }
/** A fixed reply, or a function of the command's argument (undefined: accept). */
export type ReplyRule = SinkReply | ((arg: string, session: SMTPServerSession) => SinkReply | undefined)

export interface SinkOptions {
  /** starttls (default): plain port offering STARTTLS; none: no STARTTLS at all; implicit: TLS from the first byte. */
  tls?: 'starttls' | 'none' | 'implicit'
  /** Defaults to the test CA's localhost certificate. */
  certificate?: KeyPair
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'
  /** OpenSSL cipher string, e.g. 'DEFAULT@SECLEVEL=0' to allow TLS 1.0/1.1 at all. */
  ciphers?: string
  auth?: { user: string; pass: string }
  replies?: { connect?: ReplyRule; mailFrom?: ReplyRule; rcptTo?: ReplyRule; data?: ReplyRule }
}

export interface ReceivedMessage {
  raw: Buffer
  envelope: { mailFrom: string; rcptTo: string[] }
  secure: boolean
  tlsProtocol: string | null
  user: string | null
}

export interface SmtpSink {
  host: 'localhost'
  port: number
  /** smtp:// or smtps:// URL to use as SMTP_URL. */
  url: string
  messages: ReceivedMessage[]
  /** What the sink saw, so tests can prove a receiver was not hammered. */
  counts: { connections: number; mailFrom: number; rcptTo: number }
  setReplies(replies: SinkOptions['replies']): void
  /** Resolves once `n` messages have been received in total. */
  waitForMessages(n: number): Promise<void>
  close(): Promise<void>
}

function rejection(rule: ReplyRule | undefined, arg: string, session: SMTPServerSession): Error | null {
  const reply = typeof rule === 'function' ? rule(arg, session) : rule
  if (!reply) return null
  return Object.assign(new Error(reply.message), { responseCode: reply.code })
}

/** A real smtp-server on loopback (port 0) that records what it receives. */
export async function startSmtpSink(opts: SinkOptions = {}): Promise<SmtpSink> {
  const certs = await testCerts()
  const mode = opts.tls ?? 'starttls'
  const pair = opts.certificate ?? certs.localhost
  let replies = opts.replies ?? {}
  const events = new EventEmitter()
  const messages: ReceivedMessage[] = []
  const counts = { connections: 0, mailFrom: 0, rcptTo: 0 }

  const options: SMTPServerOptions = {
    secure: mode === 'implicit',
    key: pair.keyPem, cert: pair.certPem,
    minVersion: opts.minVersion ?? 'TLSv1.2',
    ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
    disabledCommands: [...(mode === 'none' ? ['STARTTLS'] : []), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username })
      cb(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }))
    },
    onConnect(session, cb) {
      counts.connections++
      cb(rejection(replies.connect, session.remoteAddress, session) ?? undefined)
    },
    onMailFrom(address, session, cb) {
      counts.mailFrom++
      cb(rejection(replies.mailFrom, address.address, session) ?? undefined)
    },
    onRcptTo(address, session, cb) {
      counts.rcptTo++
      cb(rejection(replies.rcptTo, address.address, session) ?? undefined)
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const err = rejection(replies.data, '', session)
        if (err) return cb(err)
        const tlsInfo = (session as any).tlsOptions as { version?: string } | undefined
        messages.push({
          raw: Buffer.concat(chunks),
          envelope: {
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          },
          secure: Boolean(session.secure),
          tlsProtocol: tlsInfo?.version ?? null,
          user: (session.user as string | undefined) ?? null,
        })
        events.emit('message')
        cb()
      })
    },
  }
  const server = new SMTPServer(options)
  server.on('error', () => { /* failed handshakes are expected in TLS tests */ })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const port = (server.server.address() as AddressInfo).port

  return {
    host: 'localhost', port, url: `${mode === 'implicit' ? 'smtps' : 'smtp'}://localhost:${port}`,
    messages, counts,
    setReplies(next) { replies = next ?? {} },
    async waitForMessages(n) {
      while (messages.length < n) await once(events, 'message')
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
