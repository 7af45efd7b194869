import { join } from 'node:path'
import { messageJson } from '../lib/payload.ts'
import { install, startSealpost, probe, requireSources, FROM, type Backend } from '../lib/sealpost.ts'
import type { BenchSettings, PreparedHttp } from './settings.ts'

/**
 * POST /v1/messages on the real server (`src/main.ts --role api`), every guard
 * on: API-key auth, rate limits and quotas (high, never triggered), ABAC,
 * schema validation, encryption at rest, audit append, enqueue.
 */
export async function startSendApi(s: BenchSettings, backend: Backend): Promise<PreparedHttp> {
  requireSources('src/messages/routes.ts')
  const inst = await install(join(s.tmpDir, `send-${backend}`), backend)
  try {
    const { proc, baseUrl } = await startSealpost(inst, 'api', s.profileArgs(`send-${backend}`))
    const url = `${baseUrl}/v1/messages`
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${inst.liveKey}` }
    const body = messageJson(FROM)
    try {
      await probe(url, headers, body)
    } catch (e) {
      await proc.stop()
      throw e
    }
    return {
      target: { id: `send-${backend}`, server: proc, url, headers, body },
      notes: [],
      async stop() { await proc.stop(); await inst.dispose() },
    }
  } catch (e) {
    await inst.dispose()
    throw e
  }
}
