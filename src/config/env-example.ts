import { variables, type VarSpec } from './variables.ts'

/** `.env.example`, generated from the variable list so the two cannot drift (a test compares them). */
export function renderEnvExample(): string {
  const lines = [
    '# Sealpost configuration. Every variable is optional: the defaults run the embedded',
    '# SQLite server on https://127.0.0.1:3000 with secrets created under SEALPOST_DATA_DIR.',
    '# Regenerate: npm run cli -- env-example > .env.example',
    '',
  ]
  for (const [name, spec] of Object.entries(variables) as [string, VarSpec][]) {
    lines.push(`# ${spec.description}`)
    if (spec.values) lines.push(`# One of: ${spec.values.join(', ')}.`)
    if (spec.secret) lines.push('# Secret: keep it out of version control and logs.')
    lines.push(`# ${name}=${spec.default ?? ''}`, '')
  }
  return lines.join('\n')
}
