import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { Db } from '../storage/db.ts'
import type { RequestHook } from '../http/pipeline.ts'
import { activeIpBlocks, activeThrottles } from './store.ts'

interface Block { id: string; orgId: string | null; until: number }
interface Throttle { perMinute: number; until: number; window: number; count: number }

/**
 * What the guards enforce, held in memory so a decision costs no query: IP
 * blocks (global or per organization), key throttles, and keys suspended by
 * this process (until the database says so too). Other processes' actions
 * arrive through `refresh()`, which re-reads the active rows.
 */
export function createEnforcement(deps: { db: Db; clock: Clock }) {
  let blocks = new Map<string, Block[]>()
  let throttles = new Map<string, Throttle>()
  /** Bridges the moment between a suspension and its database write; the key authenticator reads the column after that. */
  const suspended = new Map<string, number>()
  const SUSPENSION_BRIDGE_MS = 30_000
  const now = () => deps.clock.now().getTime()

  function blockFor(ip: string, orgId: string | null): Block | null {
    const t = now()
    return blocks.get(ip)?.find((b) => b.until > t && (b.orgId === null || b.orgId === orgId)) ?? null
  }

  const retryAfter = (until: number) => String(Math.max(1, Math.ceil((until - now()) / 1000)))

  /** Before authentication: IPs blocked for everyone. */
  const globalIpGuard: RequestHook = async (req) => {
    const b = blockFor(req.clientIp || req.ip, null)
    if (b && b.orgId === null) throw new AppError('ip_blocked', 'Requests from this address are blocked after suspicious activity.', { headers: { 'retry-after': retryAfter(b.until) } })
  }

  /** After authorization: the organization's own IP blocks, suspended keys, throttled keys. */
  const principalGuard: RequestHook = async (req) => {
    const p = req.principal
    if (!p) return
    const b = blockFor(req.clientIp || req.ip, p.orgId)
    if (b) throw new AppError('ip_blocked', 'Requests from this address are blocked after suspicious activity.', { headers: { 'retry-after': retryAfter(b.until) } })
    if ((suspended.get(p.credentialId) ?? 0) > now()) {
      throw new AppError('key_suspended', 'This key is suspended after suspicious activity. An administrator must reinstate it.')
    }
    const th = throttles.get(p.credentialId)
    if (th) {
      const t = now()
      if (th.until <= t) { throttles.delete(p.credentialId); return }
      const minute = Math.floor(t / 60_000)
      if (th.window !== minute) { th.window = minute; th.count = 0 }
      if (++th.count > th.perMinute) {
        throw new AppError('rate_limited', 'This key is throttled after unusual volume.', { headers: { 'retry-after': String(60 - Math.floor((t % 60_000) / 1000)) } })
      }
    }
  }

  return {
    globalIpGuard,
    principalGuard,
    addBlock(ip: string, b: Block) { blocks.set(ip, [...(blocks.get(ip) ?? []), b]) },
    removeBlock(id: string) {
      for (const [ip, list] of blocks) blocks.set(ip, list.filter((b) => b.id !== id))
    },
    addThrottle(keyId: string, perMinute: number, until: number) { throttles.set(keyId, { perMinute, until, window: -1, count: 0 }) },
    markSuspended(keyId: string) { suspended.set(keyId, now() + SUSPENSION_BRIDGE_MS) },
    markReinstated(keyId: string) { suspended.delete(keyId); throttles.delete(keyId) },
    isBlocked: (ip: string, orgId: string | null) => blockFor(ip, orgId) !== null,
    /** Re-reads active blocks and throttles (other processes' actions; expiry). */
    async refresh() {
      const t = now()
      const next = new Map<string, Block[]>()
      for (const r of await activeIpBlocks(deps.db, t)) next.set(r.ip, [...(next.get(r.ip) ?? []), { id: r.id, orgId: r.org_id, until: Number(r.expires_at) }])
      blocks = next
      const th = new Map<string, Throttle>()
      for (const r of await activeThrottles(deps.db, t)) {
        const old = throttles.get(r.key_id)
        th.set(r.key_id, old ?? { perMinute: r.per_minute, until: Number(r.expires_at), window: -1, count: 0 })
      }
      throttles = th
    },
  }
}

export type Enforcement = ReturnType<typeof createEnforcement>
