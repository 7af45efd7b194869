/**
 * Helpers for the generated suites that walk the app's whole route table
 * (every-route.security, every-route.matrix, cross-tenant.security).
 */
import type { TestApp } from '../helpers/harness.ts'
import { bearer } from '../helpers/harness.ts'
import { newId } from '../../src/core/ids.ts'

export interface TableRoute { method: string; url: string; config: { scopes?: readonly string[]; public?: boolean; optionalAuth?: boolean; rateLimit?: unknown; session?: string; environment?: string; stepUp?: boolean } }

/** Every route once (HEAD mirrors GET and is skipped), in registration order. */
export function routesOf(h: TestApp): TableRoute[] {
  return h.http.routeTable.filter((r) => r.method !== 'HEAD') as TableRoute[]
}

export const isV1 = (r: TableRoute) => r.url === '/v1' || r.url.startsWith('/v1/')
export const label = (r: TableRoute) => `${r.method} ${r.url}`

/** Replaces every `:param` (and a trailing wildcard) with `value`, or a well-formed id no org owns. */
export function fillPath(url: string, value: string = newId('zzz')): string {
  return url.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, value).replace(/\*$/, 'x')
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

/** Calls a route as `key` (or anonymously) with `payload` (default: an empty JSON object) where a body is possible. */
export function probe(h: TestApp, route: TableRoute, opts: { key?: string; path?: string; query?: string; headers?: Record<string, string>; payload?: object } = {}) {
  const url = (opts.path ?? fillPath(route.url)) + (opts.query ? `?${opts.query}` : '')
  return h.http.inject({
    method: route.method as any,
    url,
    headers: { ...(opts.key ? bearer(opts.key) : {}), ...opts.headers },
    ...(WITH_BODY.has(route.method) ? { payload: opts.payload ?? {} } : {}),
  })
}
