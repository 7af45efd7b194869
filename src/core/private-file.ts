import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
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
