import { Worker } from 'node:worker_threads'
import { composeSigned, SigningError } from './compose.ts'
import type { OutboundMessage } from './contract.ts'

/** Turns an OutboundMessage into the signed bytes to send. */
export interface MessageSigner {
  sign(msg: OutboundMessage, at: number): Promise<Buffer>
  close(): Promise<void>
}

/** On the calling thread: small deployments and tests. */
export const inlineSigner: MessageSigner = { sign: composeSigned, close: async () => {} }

interface Pending { resolve(raw: Buffer): void; reject(err: Error): void }
interface Slot { worker: Worker; pending: Map<number, Pending> }

/**
 * MIME building and RSA signing cost milliseconds of CPU per message: done in worker
 * threads, the event loop stays free for SMTP and database I/O. Each task goes to the
 * thread with the fewest in flight; a thread that dies fails its tasks (the jobs are
 * deferred and retried) and is replaced.
 */
export function createThreadSigner(threads: number): MessageSigner {
  let nextId = 0
  let closed = false
  const slots: Slot[] = []

  function spawn(i: number): Slot {
    const worker = new Worker(new URL('./signing-thread.ts', import.meta.url))
    worker.unref()
    const slot: Slot = { worker, pending: new Map() }
    worker.on('message', (m: { id: number; raw?: Uint8Array; error?: { name: string; message: string } }) => {
      const p = slot.pending.get(m.id)
      if (!p) return
      slot.pending.delete(m.id)
      // Referenced only while it has work, so an idle signer never keeps the process up.
      if (!slot.pending.size) worker.unref()
      if (m.raw) p.resolve(Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength))
      else p.reject(m.error?.name === 'SigningError' ? new SigningError(m.error.message) : new Error(m.error?.message ?? 'signing failed'))
    })
    const fail = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(err)
      slot.pending.clear()
      if (!closed && slots[i] === slot) slots[i] = spawn(i)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`signing thread exited (${code})`)))
    return slot
  }
  for (let i = 0; i < Math.max(1, threads); i++) slots.push(spawn(i))

  return {
    sign(msg, at) {
      if (closed) return Promise.reject(new Error('signer closed'))
      const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
      const id = nextId++
      return new Promise<Buffer>((resolve, reject) => {
        if (!slot.pending.size) slot.worker.ref()
        slot.pending.set(id, { resolve, reject })
        slot.worker.postMessage({ id, msg, at })
      })
    },
    async close() {
      closed = true
      await Promise.all(slots.map((s) => s.worker.terminate()))
    },
  }
}
