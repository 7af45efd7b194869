import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../lib/processes.ts'
import { Unavailable } from '../lib/unavailable.ts'
import type { BenchSettings, PreparedHttp } from './settings.ts'

/** POST /v1/messages on the real server (src/main.ts), every guard on. */
export async function startSendApi(_s: BenchSettings, _backend: 'sqlite' | 'postgres'): Promise<PreparedHttp> {
  if (!existsSync(join(REPO_ROOT, 'src/main.ts'))) throw new Unavailable('src/main.ts has not landed yet')
  throw new Unavailable('send API scenario not wired yet')
}
