import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../lib/processes.ts'
import { Unavailable } from '../lib/unavailable.ts'
import type { DeliveryFigures, ScenarioResult } from '../lib/results.ts'
import type { BenchSettings } from './settings.ts'
import type { Sink } from './delivery.ts'

/** Sealpost's delivery pipeline end to end. */
export async function pipelineDelivery(_s: BenchSettings, _sink: Sink, _backend: 'sqlite' | 'postgres'): Promise<ScenarioResult<DeliveryFigures>> {
  for (const f of ['src/main.ts', 'src/delivery/worker.ts']) {
    if (!existsSync(join(REPO_ROOT, f))) throw new Unavailable(`${f} has not landed yet`)
  }
  throw new Unavailable('delivery pipeline scenario not wired yet')
}
