import { join } from 'node:path'
import type { HttpTarget } from '../lib/measure-http.ts'

export interface BenchSettings {
  durationS: number
  warmupS: number
  connections: number
  rounds: number
  halfRounds: number
  deliveryMessages: number
  /** Scratch folder for this run (data dirs, certificates); removed at the end. */
  tmpDir: string
  /** Node flags for a server process: `--cpu-prof` into bench/results/profiles/ when profiling. */
  profileArgs(name: string): string[]
}

/** A started HTTP scenario, ready for load. */
export interface PreparedHttp {
  target: HttpTarget
  notes: string[]
  stop(): Promise<void>
}

export function makeSettings(opts: Omit<BenchSettings, 'profileArgs'> & { profileDir: string | null }): BenchSettings {
  const { profileDir, ...rest } = opts
  return {
    ...rest,
    profileArgs: (name) => profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [],
  }
}

export const PROFILE_DIR = (root: string) => join(root, 'bench/results/profiles')
