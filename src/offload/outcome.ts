/**
 * What crosses the thread boundary for one task. Errors are not thrown across it:
 * structured clone keeps an Error's message but drops AppError's code, status and
 * details, so the worker sends them as data and the main thread rebuilds the AppError.
 */
import { AppError, errorStatus, type ErrorCode } from '../core/errors.ts'

export type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; appError: { code: ErrorCode; message: string; details?: unknown; headers: Record<string, string> } }
  | { ok: false; unexpected: { name: string; message: string; stack?: string } }

export function failureOf(err: unknown): Outcome {
  if (err instanceof AppError) {
    return { ok: false, appError: { code: err.code, message: err.message, details: err.details, headers: err.headers } }
  }
  const e = err instanceof Error ? err : new Error(String(err))
  return { ok: false, unexpected: { name: e.name, message: e.message, stack: e.stack } }
}

/** The task's value, or its error re-created on this thread (same code, status, message, details). */
export function unwrap(task: string, outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value
  if ('appError' in outcome && Object.hasOwn(errorStatus, outcome.appError.code)) {
    const { code, message, details, headers } = outcome.appError
    return throwing(new AppError(code, message, { details, headers }))
  }
  // A bug in a task (not a refusal of its input): a 500, with the worker's stack in the log only.
  const u = 'unexpected' in outcome ? outcome.unexpected : { name: 'Error', message: 'malformed task outcome' }
  return throwing(new Error(`offloaded task ${task} failed: ${u.name}: ${u.message}`, { cause: u }))
}

const throwing = (err: Error): never => { throw err }
