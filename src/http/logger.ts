import type { FastifyServerOptions } from 'fastify'

/** Everything that may hold a secret or PII. One list, used by every logger. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
  '*.password', '*.secret', '*.token', '*.apiKey', '*.key', '*.pepper', '*.totp', '*.code',
  'body', '*.body', '*.html', '*.text', '*.subject', '*.attachments',
]

/**
 * Query strings may carry credentials a caller put there by mistake: log the path only,
 * and blank key-shaped segments (a key pasted into a path is still a key).
 */
const KEY_SHAPE = /sp_(?:live|test)_[0-9A-Za-z_]{16,}/g
const pathOnly = (url: string) => url.split('?')[0].replace(KEY_SHAPE, '[redacted]')

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
