#!/usr/bin/env node
/**
 * `npm run cli -- <command> [args]`. Each command is `src/cli/commands/<command>.ts`
 * exporting `summary` (one line) and `run(args: string[]): Promise<number>` (exit code).
 */
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('./commands/', import.meta.url))

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  const available = (await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort()
  if (!name || name === 'help' || name === '--help') {
    console.log('usage: npm run cli -- <command> [args]\n')
    for (const c of available) {
      const mod = await import(new URL(`./commands/${c}.ts`, import.meta.url).href)
      console.log(`  ${c.padEnd(14)} ${mod.summary ?? ''}`)
    }
    return name ? 0 : 1
  }
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !available.includes(name)) {
    console.error(`unknown command "${name}". Try: npm run cli -- help`)
    return 2
  }
  const mod = await import(new URL(`./commands/${name}.ts`, import.meta.url).href)
  return mod.run(args)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => { console.error(err instanceof Error ? err.message : err); process.exit(1) },
)
