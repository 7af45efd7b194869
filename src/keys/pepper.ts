import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { privateFileProblem } from '../core/private-file.ts'

export const pepperPath = (dataDir: string) => join(dataDir, 'pepper.key')

/**
 * The server pepper API key HMACs are computed under: SEALPOST_PEPPER, or
 * DATA_DIR/pepper.key (created with mode 0600 when `create` is set; refused
 * when readable by group or others). Losing it invalidates every API key.
 */
export function loadPepper(config: { pepper?: string; dataDir: string }, opts: { create: boolean }): { pepper: string; created: boolean } {
  if (config.pepper) return { pepper: config.pepper, created: false }
  const path = pepperPath(config.dataDir)
  if (!existsSync(path)) {
    if (!opts.create) throw new Error(`${path} does not exist and SEALPOST_PEPPER is not set; run: npm run cli -- init`)
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    const fd = openSync(path, 'wx', 0o600)
    try { writeSync(fd, randomBytes(32).toString('base64url')) } finally { closeSync(fd) }
    return { pepper: readFileSync(path, 'utf8').trim(), created: true }
  }
  const problem = privateFileProblem(path)
  if (problem) throw new Error(problem)
  const pepper = readFileSync(path, 'utf8').trim()
  if (pepper.length < 32) throw new Error(`${path} holds fewer than 32 characters`)
  return { pepper, created: false }
}
