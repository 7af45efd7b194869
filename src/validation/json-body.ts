/**
 * The request-body JSON parser (replaces Fastify's default for application/json).
 * Before JSON.parse, one linear scan of the raw text refuses, with 400:
 * - bytes that are not valid UTF-8 (instead of silently turning them into U+FFFD)
 * - nesting deeper than maxDepth (deep JSON never reaches a recursive validator)
 * - a string longer than maxStringLength, a property name longer than maxKeyLength
 * - more than maxElements values in total (hash-flooding sized objects)
 * Then Fastify's own parser (prototype-poisoning protection) does the parsing.
 * Per-field limits stay in each route's TypeBox schema (maxLength, maxItems).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../core/errors.ts'

export interface JsonLimits {
  maxDepth: number
  /** Attachments travel as base64 strings: 16 MiB covers a 10 MiB file. */
  maxStringLength: number
  maxKeyLength: number
  maxElements: number
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxStringLength: 16 * 1024 * 1024, maxKeyLength: 256, maxElements: 100_000 }

const refuse = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('invalid_request', message, { details: { field: 'body', reason, ...extra } })

const OPEN_OBJ = 0x7b, OPEN_ARR = 0x5b, CLOSE_OBJ = 0x7d, CLOSE_ARR = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c

/** Throws the first limit the text breaks; leaves syntax errors to JSON.parse. */
export function checkJsonLimits(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  let depth = 0
  let elements = 0
  let stringStart = -1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (stringStart >= 0) {
      if (c === BACKSLASH) { i++; continue }
      if (c !== QUOTE) continue
      const len = i - stringStart - 1
      if (len > limits.maxStringLength) throw refuse('string_too_long', `A JSON string is longer than ${limits.maxStringLength} characters.`, { maxLength: limits.maxStringLength })
      if (len > limits.maxKeyLength) {
        let j = i + 1
        while (j < text.length && (text.charCodeAt(j) <= 0x20)) j++
        if (text.charCodeAt(j) === COLON) throw refuse('key_too_long', `A JSON property name is longer than ${limits.maxKeyLength} characters.`, { maxLength: limits.maxKeyLength })
      }
      stringStart = -1
      continue
    }
    if (c === QUOTE) { stringStart = i; elements++ }
    else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > limits.maxDepth) throw refuse('too_deep', `JSON nesting is deeper than ${limits.maxDepth} levels.`, { maxDepth: limits.maxDepth })
      elements++
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--
    else if (c === COMMA) elements++
    if (elements > limits.maxElements) throw refuse('too_many_elements', `The JSON body has more than ${limits.maxElements} values.`, { maxElements: limits.maxElements })
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Large bodies parsed off the event loop (offload/json.ts runs the same limit scan in a worker). */
export interface JsonOffload {
  /** Bodies of at least this many bytes are parsed off the loop. */
  minBytes: number
  parse(body: Buffer): Promise<unknown>
}

/**
 * The application/json parser. With `offload`, bodies of `minBytes` or more go to the pool: for a 5 MB
 * body the limit scan and JSON.parse cost ~60 ms of CPU, which would otherwise stall every other
 * request; smaller ones stay on the loop (a thread hop costs more than they do).
 */
export function installJsonBodyParser(app: FastifyInstance, limits: JsonLimits = DEFAULT_JSON_LIMITS, offload?: JsonOffload): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    if (offload && body.length >= offload.minBytes) {
      offload.parse(body).then((value) => done(null, value), (err) => done(err as Error, undefined))
      return
    }
    let text: string
    try { text = utf8.decode(body) } catch {
      return done(refuse('invalid_utf8', 'The request body is not valid UTF-8.'), undefined)
    }
    try { checkJsonLimits(text, limits) } catch (e) { return done(e as Error, undefined) }
    parse(req, text, done)
  })
}
