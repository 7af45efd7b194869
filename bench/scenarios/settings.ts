import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
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
  /** Remembers when a profiled process was under measured load, so its summary leaves boot out. */
  recordWindow(name: string, fromUs: number, toUs: number): void
}

/** A started HTTP scenario, ready for load. */
export interface PreparedHttp {
  target: HttpTarget
  notes: string[]
  stop(): Promise<void>
}

export function makeSettings(opts: Omit<BenchSettings, 'profileArgs' | 'recordWindow'> & { profileDir: string | null }): BenchSettings {
  const { profileDir, ...rest } = opts
  return {
    ...rest,
    profileArgs: (name) => profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [],
    recordWindow(name, fromUs, toUs) {
      if (!profileDir) return
      const file = join(profileDir, WINDOWS_FILE)
      let all: Record<string, [number, number][]> = {}
      try { all = JSON.parse(readFileSync(file, 'utf8')) } catch { /* first window */ }
      all[name] = [...(all[name] ?? []), [fromUs, toUs]]
      writeFileSync(file, JSON.stringify(all, null, 1))
    },
  }
}

/** `{ "<profile name>": [[fromUs, toUs], ...] }` next to the profiles. */
export const WINDOWS_FILE = 'windows.json'

export const PROFILE_DIR = (root: string) => join(root, 'bench/results/profiles')
