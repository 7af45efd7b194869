import type { FastifyServerOptions } from 'fastify'

/** Everything that may hold a secret or PII. One list, used by every logger. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
  '*.password', '*.secret', '*.token', '*.apiKey', '*.key', '*.pepper', '*.totp', '*.code',
  'body', '*.body', '*.html', '*.text', '*.subject', '*.attachments',
]

/** Query strings may carry credentials a caller put there by mistake: log the path only. */
const pathOnly = (url: string) => url.split('?')[0]

export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: any) => ({ method: req.method, url: pathOnly(req.url), remoteAddress: req.ip }),
      res: (res: any) => ({ statusCode: res.statusCode }),
    },
    ...(stream ? { stream } : {}),
  } as any
}
