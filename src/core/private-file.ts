import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Writes a file only its owner can read (0600, folder 0700), atomically: a temp file
 * created with that mode, fsync'd, then renamed, so a crash never leaves half a key.
 */
export function writePrivateFile(path: string, body: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', 0o600)
  try { writeSync(fd, body); fsyncSync(fd) } finally { closeSync(fd) }
  chmodSync(tmp, 0o600) // umask cannot widen it, but be explicit
  renameSync(tmp, path)
}

/** Why a secret file must not be used (readable by group or others, as ssh refuses), or null. */
export function privateFileProblem(path: string): string | null {
  const mode = statSync(path).mode & 0o777
  return mode & 0o077 ? `${path} has mode ${mode.toString(8)}; run chmod 600 ${path}` : null
}

/** A file or folder that group or others can reach: the message names it and the chmod that fixes it. */
export class PrivateModeError extends Error {
  constructor(problem: string) {
    super(`refusing to start: ${problem}`)
    this.name = 'PrivateModeError'
  }
}

/** Why a folder of secrets must not be used (group or others may list or enter it), or null. */
export function privateDirProblem(path: string): string | null {
  const mode = statSync(path).mode & 0o777
  return mode & 0o077 ? `${path} has mode ${mode.toString(8)}; run chmod 700 ${path}` : null
}

/** Creates the folder with mode 0700 when missing; refuses an existing one that is looser. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  const problem = privateDirProblem(path)
  if (problem) throw new PrivateModeError(problem)
}

/** Refuses files (that exist) readable or writable by group or others. */
export function assertPrivateFiles(paths: string[]): void {
  for (const p of paths) {
    if (!existsSync(p)) continue
    const problem = privateFileProblem(p)
    if (problem) throw new PrivateModeError(problem)
  }
}
