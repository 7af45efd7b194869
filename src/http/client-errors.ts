/**
 * Errors Node's HTTP parser raises before a request reaches Fastify (a request not fully
 * received within requestTimeout or headersTimeout, oversized headers, malformed HTTP),
 * rendered in the API's error format instead of Fastify's default body. The connection is
 * closed after the answer: its stream position is unknown.
 */
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { errorStatus, type ErrorCode } from '../core/errors.ts'

function classify(code: string | undefined): { code: ErrorCode; message: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'request_timeout', message: 'The request was not received in time; the connection is closed.' }
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'headers_too_large', message: 'The request headers are too large.' }
  return { code: 'invalid_request', message: 'Malformed HTTP request.' }
}

export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const { code, message } = classify(err.code)
  const status = errorStatus[code]
  this.log.info({ code, cause: err.code }, 'client error')
  // A response already started on this socket (Node's _httpMessage) gets no second status line.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && !current?.headersSent) {
    const body = JSON.stringify({ error: { code, message } })
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
