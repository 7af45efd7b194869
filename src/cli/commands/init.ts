import { parseArgs } from 'node:util'
import { openRuntime } from '../../boot.ts'
import { buildApp } from '../../app.ts'
import { bootstrap, bootstrapReport, isBootstrapped } from '../../orgs/bootstrap.ts'
import { handOverSecrets, INITIAL_CREDENTIALS_FILE } from '../secret-handoff.ts'

export const summary = `create the first organization, owner, local domain and API keys (shown once: on a terminal, else in DATA_DIR/${INITIAL_CREDENTIALS_FILE})`

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
    handOverSecrets(bootstrapReport(result, input.ownerEmail), INITIAL_CREDENTIALS_FILE, { stdout: process.stdout, dataDir: rt.config.dataDir, notice: (m) => console.log(m) })
    console.log(`initialized organization ${result.orgId}`)
    return 0
  } finally {
    await app.close()
    await rt.storage.close()
  }
}
