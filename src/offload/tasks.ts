/**
 * Sealpost's offloaded tasks: what the pool's threads may run. Inputs and results
 * cross by structured clone (Buffers arrive as Uint8Arrays; the caller revives them).
 */
import { validateDraft } from '../messages/draft.ts'
import type { SendInput } from '../messages/schema.ts'
import { parseJsonBody } from './json.ts'

export const tasks = {
  /** Every content check of one message: addresses, subject, headers, HTML sanitising, attachment sniffing. */
  validateDraft: (job: { input: SendInput; now: number; field: string }) => validateDraft(job.input, job.now, job.field),
  /** A large JSON request body: decode, limits, parse (the object comes back by structured clone). */
  parseJsonBody: (bytes: Uint8Array) => parseJsonBody(bytes),
}

export type SealpostTasks = typeof tasks

export const TASKS_MODULE = new URL(import.meta.url)
