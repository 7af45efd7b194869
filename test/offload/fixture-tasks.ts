/** Tasks for the pool tests: a busy loop (over any budget), an echo (structured clone), and failures. */
import { AppError } from '../../src/core/errors.ts'
import { threadId } from 'node:worker_threads'
import { getPriority } from 'node:os'

export const tasks = {
  echo: (input: { text: string; bytes: Uint8Array }) => ({ text: input.text, bytes: input.bytes, threadId }),
  /** Spins without yielding, like a catastrophic regex or a superlinear parser would. */
  spin: (input: { ms: number }) => { const end = Date.now() + input.ms; while (Date.now() < end) { /* busy */ } return threadId },
  /** Blocks without using CPU (like a thread descheduled on a loaded machine). */
  sleep: (input: { ms: number }) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, input.ms); return threadId },
  priority: () => getPriority(0),
  refuse: (input: { field: string }) => {
    throw new AppError('invalid_header', 'The value of References must be message ids.', { details: { field: input.field, reason: 'invalid_message_id' }, headers: { 'x-why': 'test' } })
  },
  crash: () => { throw new TypeError('cannot read properties of undefined') },
  /** Allocates until the thread's heap cap is hit. */
  hog: () => { const keep: string[][] = []; for (;;) keep.push(new Array(1_000_000).fill('x')) },
}
