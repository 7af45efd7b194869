import { AppError } from '../core/errors.ts'
import type { AccessConditions, Environment, Principal } from '../core/principal.ts'
import { conditionsWithin, narrowConditions, withinAnyRange } from './narrow-conditions.ts'
import { windowWithin } from './time-windows.ts'

/**
 * Credential containment: the one rule for every credential kind (API keys, OAuth clients; SMTP and
 * SES-style credentials must call the same functions when they arrive). What a principal creates,
 * rotates, reinstates, revokes or deletes must be contained in the principal itself:
 * - scopes ⊆ the principal's scopes                         → 403 insufficient_scope (details.scopes)
 * - environment equal to the principal's (a test principal only touches test credentials, a live one
 *   only live ones: the sandbox is sealed both ways)        → 403 forbidden (details.environment)
 * - conditions (IP ranges, time windows, environments) at least as narrow as the principal's
 *                                                           → 403 forbidden (details.condition)
 * Revoking or deleting is held to the same rule: a narrow credential must not be able to take a wider
 * one away (denial of service on the owner's integrations), and rotating hands out a secret.
 */
export interface CredentialTarget {
  scopes: readonly string[]
  environment: Environment
  conditions: AccessConditions | null
}

export type CredentialVerb = 'create' | 'rotate' | 'revoke' | 'reinstate' | 'delete'

/** What containment reads of the acting principal. */
export type Container = Pick<Principal, 'scopes' | 'environment' | 'conditions'>

/** `what` names the credential kind in messages ("key", "OAuth client"). */
export function assertContained(principal: Container, target: CredentialTarget, verb: CredentialVerb, what: string): void {
  const beyond = target.scopes.filter((s) => !principal.scopes.includes(s))
  if (beyond.length) {
    throw new AppError('insufficient_scope', `This credential cannot ${verb} a ${what} with scopes it does not hold.`, { details: { scopes: beyond } })
  }
  if (target.environment !== principal.environment) {
    throw new AppError('forbidden', `A ${principal.environment}-environment credential cannot ${verb} a ${target.environment} ${what}.`, { details: { environment: target.environment } })
  }
  if (!conditionsWithin(target.conditions, principal.conditions)) {
    throw new AppError('forbidden', `This credential cannot ${verb} a ${what} with wider access conditions than its own.`, { details: { condition: widerKind(target.conditions, principal.conditions) } })
  }
}

/**
 * A new credential's target: requested conditions narrowed by the principal's (a condition left out is
 * inherited, never shed), then checked like any other. Returns what must be stored.
 */
export function containedNew(principal: Container, requested: { scopes: readonly string[]; environment?: Environment; conditions: AccessConditions | null }, what: string): CredentialTarget {
  let conditions: AccessConditions | null
  try {
    conditions = narrowConditions(principal.conditions, requested.conditions)
  } catch (e) {
    if (e instanceof AppError && e.code === 'forbidden') {
      throw new AppError('forbidden', `A ${what} cannot have wider access conditions than the credential that creates it.`, { details: e.details })
    }
    throw e
  }
  const target = { scopes: requested.scopes, environment: requested.environment ?? principal.environment, conditions }
  assertContained(principal, target, 'create', what)
  return target
}

function widerKind(inner: AccessConditions | null, outer: AccessConditions | undefined): keyof AccessConditions {
  for (const kind of ['ipRanges', 'timeWindows', 'environments'] as const) {
    if (outer?.[kind] && !conditionsWithin(pick(inner, kind), pick(outer, kind))) return kind
  }
  return 'ipRanges'
}

const pick = (c: AccessConditions | null | undefined, kind: keyof AccessConditions): AccessConditions | null =>
  c?.[kind] ? { [kind]: c[kind] } as AccessConditions : null

/**
 * Both sets of conditions must hold (a token from a user's authorization through a client: the role's
 * conditions and the client's). The result is a single AccessConditions the ABAC checks evaluate:
 * - IP ranges: the ranges of one side lying inside a range of the other (CIDR blocks either nest or do
 *   not overlap, so this is the exact intersection; nothing in common → [] → every address refused);
 * - time windows: the windows of one side inside a window of the other (may be narrower than the true
 *   intersection when windows only partly overlap: fails closed, never open);
 * - environments: the set intersection.
 */
export function intersectConditions(a: AccessConditions | null | undefined, b: AccessConditions | null | undefined): AccessConditions | undefined {
  if (!a) return b ?? undefined
  if (!b) return a
  const out: AccessConditions = {}
  if (a.ipRanges && b.ipRanges) {
    out.ipRanges = [...new Set([
      ...a.ipRanges.filter((r) => withinAnyRange(r, b.ipRanges!)),
      ...b.ipRanges.filter((r) => withinAnyRange(r, a.ipRanges!)),
    ])]
  } else if (a.ipRanges ?? b.ipRanges) out.ipRanges = [...(a.ipRanges ?? b.ipRanges)!]
  if (a.timeWindows && b.timeWindows) {
    out.timeWindows = [
      ...a.timeWindows.filter((w) => b.timeWindows!.some((o) => windowWithin(w, o))),
      ...b.timeWindows.filter((w) => a.timeWindows!.some((o) => windowWithin(w, o))),
    ]
  } else if (a.timeWindows ?? b.timeWindows) out.timeWindows = [...(a.timeWindows ?? b.timeWindows)!]
  if (a.environments && b.environments) out.environments = a.environments.filter((e) => b.environments!.includes(e))
  else if (a.environments ?? b.environments) out.environments = [...(a.environments ?? b.environments)!]
  return out
}
