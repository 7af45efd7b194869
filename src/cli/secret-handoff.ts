import { join } from 'node:path'
import { writePrivateFile } from '../core/private-file.ts'

export interface SecretHandoffTarget {
  /** Where a person would read them: printed only when it is a terminal. */
  stdout: { isTTY?: boolean; write(chunk: string): unknown }
  /** The data folder (0700): the file goes there. */
  dataDir: string
  /** A line for the log or console that says where the secrets went, never the secrets. */
  notice(message: string): void
}

export type Handoff = { shown: 'terminal' } | { shown: 'file'; path: string }

/**
 * Secrets shown once (the keys and one-time password of `init`, a new owner's
 * one-time password). On a terminal they are printed; otherwise stdout is most
 * likely a log collector (systemd, docker, CI), so they are written to a 0600
 * file in the data folder and only its path is announced.
 */
export function handOverSecrets(text: string, fileName: string, to: SecretHandoffTarget): Handoff {
  if (to.stdout.isTTY) {
    to.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
    return { shown: 'terminal' }
  }
  const path = join(to.dataDir, fileName)
  writePrivateFile(path, text.endsWith('\n') ? text : `${text}\n`)
  to.notice(`secrets shown once were written to ${path} (mode 0600), not to this output: read them, store them safely, then delete the file`)
  return { shown: 'file', path }
}

/** The file `init` (and the first start) hands the initial secrets over in when stdout is not a terminal. */
export const INITIAL_CREDENTIALS_FILE = 'initial-credentials.txt'
