/**
 * Keeps README.md's Benchmarks section current: the text between the two
 * markers is replaced by the latest table after each full, saved run. Nothing
 * else in the README is touched.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const START = '<!-- bench:latest:start (written by npm run bench) -->'
export const END = '<!-- bench:latest:end -->'

export function updateReadme(root: string, table: string): boolean {
  const file = join(root, 'README.md')
  const text = readFileSync(file, 'utf8')
  const a = text.indexOf(START)
  const b = text.indexOf(END)
  if (a < 0 || b < a) return false
  writeFileSync(file, `${text.slice(0, a + START.length)}\n\`\`\`text\n${table}\n\`\`\`\n${text.slice(b)}`)
  return true
}
