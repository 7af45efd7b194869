/**
 * JSON request bodies parsed off the event loop (large ones: see validation/json-body.ts). Same
 * refusals as the on-loop parser: invalid UTF-8, validation/json-body's limits (depth, string
 * and key length, value count), syntax errors and prototype-poisoning keys (`__proto__`,
 * `constructor.prototype`, as Fastify's default parser refuses them). Messages never quote
 * the body.
 */
import { AppError } from '../core/errors.ts'
import { checkJsonLimits } from '../validation/json-body.ts'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const refuse = (reason: string, message: string) => new AppError('invalid_request', message, { details: { field: 'body', reason } })

export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string
  try { text = utf8.decode(bytes) } catch { throw refuse('invalid_utf8', 'The request body is not valid UTF-8.') }
  checkJsonLimits(text)
  let value: unknown
  try { value = JSON.parse(text) } catch { throw refuse('invalid_json', 'The request body is not valid JSON.') }
  if (poisoned(value)) throw refuse('forbidden_property', 'The request body contains a forbidden property (__proto__ or constructor.prototype).')
  return value
}

/** Iterative walk (depth is already bounded by checkJsonLimits). */
function poisoned(root: unknown): boolean {
  const stack = [root]
  while (stack.length) {
    const v = stack.pop()
    if (!v || typeof v !== 'object') continue
    if (Object.hasOwn(v, '__proto__')) return true
    const ctor = Object.hasOwn(v, 'constructor') ? (v as { constructor: unknown }).constructor : undefined
    if (ctor && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) return true
    for (const child of Object.values(v)) if (child && typeof child === 'object') stack.push(child)
  }
  return false
}
