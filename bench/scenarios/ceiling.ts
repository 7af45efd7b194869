import { startNode } from '../lib/processes.ts'
import { messageJson } from '../lib/payload.ts'
import type { BenchSettings, PreparedHttp } from './settings.ts'

/** Bare Fastify 5 echoing the same ~1 KB JSON body: the HTTP ceiling. */
export async function startCeiling(s: BenchSettings): Promise<PreparedHttp> {
  const server = startNode({ script: 'bench/servers/bare-fastify.ts', ipc: true, nodeArgs: s.profileArgs('ceiling') })
  try {
    const { port } = await server.waitForMessage<{ port: number }>((m) => m.ready)
    return {
      target: {
        id: 'ceiling', server, url: `http://127.0.0.1:${port}/echo`,
        headers: { 'content-type': 'application/json' },
        body: messageJson('Acme Billing <billing@acme.test>'),
      },
      notes: [],
      stop: () => server.stop(),
    }
  } catch (e) {
    await server.stop()
    throw e
  }
}
