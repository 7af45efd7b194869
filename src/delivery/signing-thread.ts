/** Worker-thread entry: composes and DKIM-signs messages off the main event loop. */
import { parentPort } from 'node:worker_threads'
import { composeSigned } from './compose.ts'
import type { OutboundMessage } from './contract.ts'

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

parentPort!.on('message', async (task: { id: number; msg: OutboundMessage; at: number }) => {
  try {
    // Structured clone turns Buffers into Uint8Arrays.
    const msg = { ...task.msg, attachments: task.msg.attachments.map((a) => ({ ...a, content: asBuffer(a.content) })) }
    const raw = await composeSigned(msg, task.at)
    parentPort!.postMessage({ id: task.id, raw })
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: { name: (err as Error).name, message: (err as Error).message } })
  }
})
