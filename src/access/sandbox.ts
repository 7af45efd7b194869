import type { Environment, Principal } from '../core/principal.ts'

/**
 * The sandbox seal at data level (routes declare `environment: 'sealed'`, http/types.ts): objects carry
 * the environment of the credential that created them, and a test-environment principal sees and
 * changes only test objects. Live principals (and signed-in users, who are live) see both, so the
 * dashboard can show sandbox traffic; each view names the object's environment. Writes to a live
 * object by a test principal therefore find nothing (404), like another organization's object.
 *
 * Send-time rules that follow from it (messages/, suppressions/):
 * - a live send honours live suppressions only: a test principal cannot block (or unblock) live mail;
 * - a test send honours both, so the sandbox shows what a live send would do (it delivers nothing);
 * - idempotency keys, quotas and rate limits are counted per environment.
 */
export function environmentsVisibleTo(principal: Pick<Principal, 'environment'>): Environment[] {
  return principal.environment === 'live' ? ['live', 'test'] : ['test']
}

export function canSee(principal: Pick<Principal, 'environment'>, objectEnvironment: Environment): boolean {
  return environmentsVisibleTo(principal).includes(objectEnvironment)
}

/** Suppressions a send in `environment` must honour. */
export function suppressionEnvironmentsFor(environment: Environment): Environment[] {
  return environment === 'live' ? ['live'] : ['live', 'test']
}
