import { checkHeaderText } from './text.ts'

/** Long enough for any real subject; fits one folded header line after encoding. */
export const SUBJECT_MAX = 500

/** The Subject header: a string of at most 500 characters, no CR/LF/NUL/control, bidi or encoded-words. */
export function checkSubject(input: unknown, field = 'subject', max = SUBJECT_MAX): string {
  return checkHeaderText('invalid_header', field, input, max, 'The subject').trim()
}
