/**
 * `npm run cli -- user <create-owner|reset-mfa|reset-password>`: the operator's way in (first
 * owner) and out of a lockout (lost second factor). Both are audited with the
 * operating-system user as the actor, since no API credential is involved.
 */
import { parseArgs } from 'node:util'
import { userInfo } from 'node:os'
import { openRuntime } from '../../boot.ts'
import { buildApp } from '../../app.ts'
import { newId } from '../../core/ids.ts'
import { isAppError } from '../../core/errors.ts'
import { findOrg, insertOrg } from '../../orgs/store.ts'
import { handOverSecrets } from '../secret-handoff.ts'

/** Where a new owner's one-time password goes when stdout is not a terminal. */
export const oneTimePasswordFile = (userId: string) => `one-time-password-${userId}.txt`

export const summary = 'users: create-owner --email E (--org NAME | --org-id ID) | reset-mfa EMAIL --reason TEXT | reset-password EMAIL --reason TEXT'

const usage = `usage: npm run cli -- user <command>
  create-owner --email EMAIL (--org NAME | --org-id ORG_ID) [--name NAME] [--password-stdin]
      creates the owner of a new organization (--org) or of an existing one (--org-id).
      Without --password-stdin a one-time password is shown once (on a terminal; else
      written to a 0600 file in the data folder): it signs in once, and that session
      must replace it and enrol MFA before anything else.
  reset-mfa EMAIL --reason TEXT
      removes every second factor and recovery code of the user and signs them out
      everywhere; they enrol again at next sign-in. Recorded in the audit log.
  reset-password EMAIL --reason TEXT
      a new one-time password (shown once like create-owner's) and every session
      signed out; second factors stay. Recorded in the audit log.`

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

const operator = () => ({ type: 'system' as const, id: `cli:${(() => { try { return userInfo().username } catch { return 'unknown' } })()}` })

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd !== 'create-owner' && cmd !== 'reset-mfa' && cmd !== 'reset-password') {
    console.error(usage)
    return 2
  }
  let parsed
  try {
    parsed = parseArgs({
      args: rest, allowPositionals: true,
      options: {
        email: { type: 'string' }, org: { type: 'string' }, 'org-id': { type: 'string' }, name: { type: 'string' },
        'password-stdin': { type: 'boolean' }, reason: { type: 'string' },
      },
    })
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage}`)
    return 2
  }
  const { values, positionals } = parsed
  if (cmd === 'create-owner' && (!values.email || (!values.org === !values['org-id']))) { console.error(usage); return 2 }
  if (cmd !== 'create-owner' && (positionals.length !== 1 || !values.reason)) { console.error(usage); return 2 }

  const password = cmd === 'create-owner' && values['password-stdin'] ? await readStdin() : undefined
  const rt = await openRuntime(process.env, { createSecrets: true })
  const app = await buildApp({ ...rt })
  try {
    if (cmd === 'reset-mfa') {
      const r = await app.users.accounts.resetMfa(positionals[0], operator(), values.reason!)
      console.log(`MFA reset for ${positionals[0]} (${r.userId}); ${r.sessionsRevoked} session(s) signed out. They must enrol a new second factor at next sign-in.`)
      return 0
    }
    if (cmd === 'reset-password') {
      const r = await app.users.accounts.issueOneTimePassword(positionals[0], operator(), values.reason!)
      console.log(`password reset for ${positionals[0]} (${r.userId}); ${r.sessionsRevoked} session(s) signed out.`)
      handOverSecrets(`one-time password for ${positionals[0]} (shown once): ${r.oneTimePassword}`, oneTimePasswordFile(r.userId),
        { stdout: process.stdout, dataDir: rt.config.dataDir, notice: (m) => console.log(m) })
      console.log('It signs in once: that session must replace it before anything else.')
      return 0
    }
    const now = Date.now()
    if (await app.users.accounts.emailTaken(values.email!)) { console.error(`conflict: a user ${values.email} already exists`); return 1 }
    let orgId = values['org-id']
    if (orgId) {
      if (!(await findOrg(rt.storage.db, orgId))) { console.error(`no organization ${orgId}`); return 1 }
    } else {
      orgId = newId('org', now)
      await insertOrg(rt.storage.db, { id: orgId, name: values.org!, created_at: now, settings: {} })
    }
    const r = await app.users.accounts.createOwner(orgId, values.email!, { password, displayName: values.name })
    console.log(`owner ${values.email} (${r.userId}) of organization ${orgId}`)
    if (r.oneTimePassword) {
      handOverSecrets(`one-time password for ${values.email} (shown once): ${r.oneTimePassword}`, oneTimePasswordFile(r.userId),
        { stdout: process.stdout, dataDir: rt.config.dataDir, notice: (m) => console.log(m) })
      console.log('It signs in once: replace it, then enrol an authenticator app or a passkey (owners must use MFA), before anything else.')
    } else {
      console.log('Sign in, then enrol an authenticator app or a passkey: owners must use MFA.')
    }
    return 0
  } catch (e) {
    if (isAppError(e)) { console.error(`${e.code}: ${e.message}`); return 1 }
    throw e
  } finally {
    await app.close()
    await rt.storage.close()
  }
}
