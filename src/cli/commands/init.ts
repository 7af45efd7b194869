import { parseArgs } from 'node:util'
import { openRuntime } from '../../boot.ts'
import { buildApp } from '../../app.ts'
import { bootstrap, isBootstrapped, printBootstrap } from '../../orgs/bootstrap.ts'

export const summary = 'create the first organization, owner, local domain and API keys (printed once)'

export const INIT_DEFAULTS = { org: 'My Organization', domain: 'sealpost.localhost', owner: 'owner@sealpost.localhost' }

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { org: { type: 'string' }, domain: { type: 'string' }, owner: { type: 'string' } },
  })
  const rt = await openRuntime(process.env, { createSecrets: true })
  const app = await buildApp({ ...rt })
  try {
    if (await isBootstrapped(rt.storage.db)) {
      console.error('Already initialized: an organization exists. Keys are never shown again; create new ones with the API.')
      return 1
    }
    const input = { orgName: values.org ?? INIT_DEFAULTS.org, domain: values.domain ?? INIT_DEFAULTS.domain, ownerEmail: values.owner ?? INIT_DEFAULTS.owner }
    const result = await bootstrap({ ...app.bootstrapDeps }, input)
    printBootstrap(result, input.ownerEmail)
    return 0
  } finally {
    await app.close()
    await rt.storage.close()
  }
}
