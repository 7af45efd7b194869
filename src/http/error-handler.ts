import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError, errorStatus, type ErrorCode } from '../core/errors.ts'

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown }
}

const byStatus: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type', 422: 'unprocessable', 429: 'rate_limited',
}

/** Fastify validation errors → `[{ path, message }]`, values never echoed. */
function validationDetails(err: FastifyError): { path: string; message: string }[] {
  return (err.validation ?? []).map((v: any) => ({
    path: `${err.validationContext ?? 'body'}${v.instancePath || ''}${v.params?.additionalProperty ? `/${v.params.additionalProperty}` : ''}${v.params?.missingProperty ? `/${v.params.missingProperty}` : ''}`,
    message: v.message ?? 'invalid',
  }))
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } }
    if (err.details !== undefined) body.error.details = err.details
    return { status: err.status, body, headers: err.headers }
  }
  const fe = err as FastifyError
  if (fe?.validation) {
    return { status: 400, headers: {}, body: { error: { code: 'invalid_request', message: 'Request does not match the schema.', details: validationDetails(fe) } } }
  }
  const status = typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500
  if (status === 500) {
    return { status, headers: {}, body: { error: { code: 'internal', message: 'Internal error. Quote the request id when reporting it.' } } }
  }
  const code = byStatus[status] ?? 'invalid_request'
  // Fastify's own 4xx messages (body too large, bad JSON, media type) carry no secrets.
  return { status: errorStatus[code] === status ? status : 400, headers: {}, body: { error: { code, message: fe.message } } }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body, headers } = toErrorBody(err)
    if (status >= 500) req.log.error({ err }, 'unhandled error')
    else req.log.info({ code: body.error.code, cause: (err as Error)?.cause }, 'request refused')
    reply.headers(headers).code(status).send(body)
  })
  app.setNotFoundHandler({}, (req, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}.` } })
  })
}
