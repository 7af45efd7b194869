import { renderEnvExample } from '../../config/env-example.ts'

export const summary = 'print a documented .env.example generated from the configuration schema'

export async function run(): Promise<number> {
  process.stdout.write(renderEnvExample())
  return 0
}
