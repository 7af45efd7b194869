import { createKey, type NewKeyInput } from '../../src/keys/service.ts'
import type { TestApp } from '../helpers/harness.ts'
import { bearer } from '../helpers/harness.ts'

/** A key straight in the store (no creator), for setting up callers with exact scopes or conditions. */
export function seedKey(h: TestApp, input: Partial<NewKeyInput> & { orgId: string }) {
  return createKey(h.db, h.app.deps.pepper, h.clock, { name: 'seeded', environment: 'live', scopes: ['keys:manage'], ...input })
}

export function call(h: TestApp, key: string, method: string, url: string, payload?: unknown, opts: { remoteAddress?: string; headers?: Record<string, string> } = {}) {
  return h.http.inject({
    method: method as any, url, headers: { ...bearer(key), ...opts.headers }, remoteAddress: opts.remoteAddress,
    ...(payload === undefined ? {} : { payload: payload as any }),
  })
}
