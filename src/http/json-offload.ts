/**
 * The application/json body parser, with large bodies parsed in the offload pool: for a 5 MB
 * body the limit scan and JSON.parse cost ~60 ms of CPU (several times that on a loaded
 * machine), which would otherwise stall every other request. Small bodies stay on the loop
 * (a thread hop costs more than they do), through the same steps as validation/json-body.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../core/errors.ts'
import { checkJsonLimits } from '../validation/json-body.ts'

export interface JsonOffload {
  /** Bodies of at least this many bytes are parsed off the loop. */
  minBytes: number
  parse(body: Buffer): Promise<unknown>
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export function installOffloadedJsonParser(app: FastifyInstance, offload: JsonOffload): void {
  const parseOnLoop = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    if (body.length >= offload.minBytes) {
      offload.parse(body).then((value) => done(null, value), (err) => done(err as Error, undefined))
      return
    }
    let text: string
    try { text = utf8.decode(body) } catch {
      return done(new AppError('invalid_request', 'The request body is not valid UTF-8.', { details: { field: 'body', reason: 'invalid_utf8' } }), undefined)
    }
    try { checkJsonLimits(text) } catch (e) { return done(e as Error, undefined) }
    parseOnLoop(req, text, done)
  })
}
