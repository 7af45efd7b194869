import { AppError } from '../core/errors.ts'
import type { AccessConditions, Environment } from '../core/principal.ts'
import { normalizeRange, parseRange, rangeWithin } from './ip-ranges.ts'
import { windowProblem, windowWithin, type TimeWindow } from './time-windows.ts'

const invalid = (path: string, message: string) =>
  new AppError('invalid_request', 'Invalid access conditions.', { details: [{ path: `body/conditions/${path}`, message }] })

/** Checks and canonicalizes caller-supplied conditions (400 naming the bad field). Empty → null. */
export function normalizeConditions(input: AccessConditions | null | undefined): AccessConditions | null {
  if (!input) return null
  const out: AccessConditions = {}
  if (input.ipRanges) {
    out.ipRanges = input.ipRanges.map((r, i) => normalizeRange(r) ?? (() => { throw invalid(`ipRanges/${i}`, 'not an IPv4 or IPv6 CIDR range') })())
    out.ipRanges = [...new Set(out.ipRanges)]
  }
  if (input.timeWindows) {
    out.timeWindows = input.timeWindows.map((w, i) => {
      const problem = windowProblem(w)
      if (problem) throw invalid(`timeWindows/${i}`, problem)
      return { days: [...new Set(w.days)].sort(), start: w.start, end: w.end, timeZone: w.timeZone }
    })
  }
  if (input.environments) out.environments = [...new Set(input.environments)] as Environment[]
  return Object.keys(out).length ? out : null
}

/**
 * A credential may only hand out what it has: the new key's conditions must be at least as narrow as
 * its creator's. A condition the request leaves out is inherited from the creator; one it sets must
 * lie inside the creator's (every range inside one of the creator's ranges, every window inside one of
 * its windows, environments a subset). Wider → 403, naming the condition kind only.
 */
export function narrowConditions(creator: AccessConditions | undefined | null, requested: AccessConditions | null): AccessConditions | null {
  if (!creator) return requested
  const out: AccessConditions = { ...requested }
  if (creator.ipRanges) {
    if (!out.ipRanges) out.ipRanges = [...creator.ipRanges]
    else if (!out.ipRanges.every((r) => withinAnyRange(r, creator.ipRanges!))) throw wider('ipRanges')
  }
  if (creator.timeWindows) {
    if (!out.timeWindows) out.timeWindows = creator.timeWindows.map((w) => ({ ...w, days: [...w.days] }))
    else if (!out.timeWindows.every((w) => creator.timeWindows!.some((o) => windowWithin(w, o)))) throw wider('timeWindows')
  }
  if (creator.environments) {
    if (!out.environments) out.environments = [...creator.environments]
    else if (!out.environments.every((e) => creator.environments!.includes(e))) throw wider('environments')
  }
  return Object.keys(out).length ? out : null
}

/** True when `inner` is at least as narrow as `outer` (what rotate and revoke check on an existing key). */
export function conditionsWithin(inner: AccessConditions | null | undefined, outer: AccessConditions | null | undefined): boolean {
  try {
    const merged = narrowConditions(outer, inner ?? null)
    // narrowConditions only adds inherited fields: the same field set means nothing had to be inherited.
    return Object.keys(merged ?? {}).sort().join() === Object.keys(inner ?? {}).sort().join()
  } catch {
    return false
  }
}

export function withinAnyRange(text: string, outer: string[]): boolean {
  const inner = parseRange(text)
  return inner !== null && outer.some((o) => {
    const r = parseRange(o)
    return r !== null && rangeWithin(inner, r)
  })
}

const wider = (kind: keyof AccessConditions) =>
  new AppError('forbidden', 'A key cannot have wider access conditions than the credential that creates it.', { details: { condition: kind } })

export type { TimeWindow }
