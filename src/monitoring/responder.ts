import ipaddr from 'ipaddr.js'
import type { AuditRecorder } from '../core/audit-sink.ts'
import type { Clock } from '../core/clock.ts'
import { MINUTE } from '../core/clock.ts'
import { newId } from '../core/ids.ts'
import type { Db } from '../storage/db.ts'
import type { Enforcement } from './enforcement.ts'
import type { Notifier } from './notifier.ts'
import type { AlertView } from './alert-view.ts'
import type { Signal } from './detectors/signal.ts'
import type { RulePolicy } from './rules.ts'
import { insertIpBlock, insertThrottle, suspendKey } from './store.ts'

export interface ActionOutcome { action: string; ok: boolean; detail?: string; at: string }

const SYSTEM = { type: 'system' as const, id: 'monitoring' }

/**
 * Carries out a rule's automatic actions for one alert. Each enforcement takes
 * effect in memory first (the next request is already refused), then in the
 * database (other processes, restarts), and is recorded in the audit log.
 *   - block_ip: global for authentication bursts (the attacker has no organization), else the organization's only
 *   - suspend_key: until an administrator reinstates it (POST /v1/keys/:id/reinstate)
 *   - throttle: the key is held to about twice its learned per-minute rate
 *   - notify: signed webhook and email (notifier.ts)
 */
export function createResponder(deps: { db: Db; clock: Clock; audit: AuditRecorder; enforcement: Enforcement; notifier: Notifier }) {
  const { db, clock, audit, enforcement } = deps

  async function block(alert: AlertView, signal: Signal, policy: RulePolicy): Promise<ActionOutcome> {
    const at = clock.now()
    if (!signal.ip) return outcome('block_ip', false, at, 'no client IP in the evidence')
    if (!isBlockable(signal.ip)) return outcome('block_ip', false, at, `${signal.ip} is a loopback address: every client may appear as it behind a proxy (set SEALPOST_TRUSTED_PROXIES); not blocked`)
    const orgId = blockScope(signal)
    let id: string, until: number
    if (signal.preempted?.blockId) {
      id = signal.preempted.blockId
      until = signal.preempted.blockUntil!
    } else {
      if (enforcement.isBlocked(signal.ip, orgId)) return outcome('block_ip', true, at, 'already blocked')
      id = newId('ipb', at.getTime())
      until = at.getTime() + policy.blockMinutes * MINUTE
      enforcement.addBlock(signal.ip, { id, orgId, until })
    }
    await insertIpBlock(db, { id, org_id: orgId, ip: signal.ip, reason: signal.rule, alert_id: alert.id, created_at: at.getTime(), expires_at: until, lifted_at: null, lifted_by: null })
    audit.record({ orgId: signal.orgId, actor: SYSTEM, action: 'monitoring.ip_blocked', target: { type: 'ip', id: signal.ip }, details: { alertId: alert.id, rule: signal.rule, scope: orgId ? 'organization' : 'global', until: new Date(until).toISOString() } })
    return outcome('block_ip', true, at, `${signal.ip} blocked until ${new Date(until).toISOString()}`)
  }

  async function suspend(alert: AlertView, signal: Signal): Promise<ActionOutcome> {
    const at = clock.now()
    if (!signal.keyId || !signal.orgId) return outcome('suspend_key', false, at, 'no key in the evidence')
    enforcement.markSuspended(signal.keyId)
    const done = await suspendKey(db, signal.orgId, signal.keyId, at.getTime(), `${signal.rule} (alert ${alert.id})`)
    if (done) audit.record({ orgId: signal.orgId, actor: SYSTEM, action: 'key.suspended', target: { type: 'key', id: signal.keyId }, details: { alertId: alert.id, rule: signal.rule } })
    return outcome('suspend_key', true, at, done ? `key ${signal.keyId} suspended` : 'already suspended')
  }

  async function throttle(alert: AlertView, signal: Signal, policy: RulePolicy): Promise<ActionOutcome> {
    const at = clock.now()
    if (!signal.keyId || !signal.orgId) return outcome('throttle', false, at, 'only keys are throttled')
    const baseline = Number(signal.evidence.baselinePerWindow ?? 0)
    const perMinute = Math.max(10, Math.ceil(baseline * 2))
    const until = at.getTime() + policy.throttleMinutes * MINUTE
    enforcement.addThrottle(signal.keyId, perMinute, until)
    await insertThrottle(db, { id: newId('thr', at.getTime()), org_id: signal.orgId, key_id: signal.keyId, per_minute: perMinute, alert_id: alert.id, created_at: at.getTime(), expires_at: until })
    audit.record({ orgId: signal.orgId, actor: SYSTEM, action: 'monitoring.key_throttled', target: { type: 'key', id: signal.keyId }, details: { alertId: alert.id, perMinute, until: new Date(until).toISOString() } })
    return outcome('throttle', true, at, `key ${signal.keyId} limited to ${perMinute}/min until ${new Date(until).toISOString()}`)
  }

  return {
    /**
     * Synchronous, at the moment a detector fires: blocks and suspensions take effect
     * in memory before the next request is read; `respond` then makes them durable.
     * Needs the policy at hand (defaults, or the organization's cached one).
     */
    preempt(signal: Signal, policy: RulePolicy | null): void {
      if (!policy) return
      const at = clock.now().getTime()
      const orgId = blockScope(signal)
      if (policy.actions.includes('block_ip') && signal.ip && isBlockable(signal.ip) && !enforcement.isBlocked(signal.ip, orgId)) {
        const blockId = newId('ipb', at)
        const blockUntil = at + policy.blockMinutes * MINUTE
        enforcement.addBlock(signal.ip, { id: blockId, orgId, until: blockUntil })
        signal.preempted = { blockId, blockUntil, blockOrgId: orgId }
      }
      if (policy.actions.includes('suspend_key') && signal.keyId && signal.orgId) enforcement.markSuspended(signal.keyId)
    },
    /** `repeat`: the alert was already open; enforcement is applied again (idempotent) but nobody is notified twice. */
    async respond(alert: AlertView, signal: Signal, policy: RulePolicy, repeat: boolean): Promise<ActionOutcome[]> {
      const out: ActionOutcome[] = []
      for (const action of policy.actions) {
        try {
          if (action === 'block_ip') out.push(await block(alert, signal, policy))
          else if (action === 'suspend_key') out.push(await suspend(alert, signal))
          else if (action === 'throttle') out.push(await throttle(alert, signal, policy))
        } catch (err) {
          out.push(outcome(action, false, clock.now(), (err as Error).message))
        }
      }
      if (policy.actions.includes('notify') && !repeat && signal.orgId) {
        const results = await deps.notifier.notify(alert, out.filter((o) => o.ok).map((o) => o.action))
        for (const r of results) out.push(outcome(`notify_${r.channel}`, r.ok, clock.now(), r.detail))
        if (results.length) audit.record({ orgId: signal.orgId, actor: SYSTEM, action: 'monitoring.notified', target: { type: 'alert', id: alert.id }, details: { channels: results.map((r) => ({ channel: r.channel, ok: r.ok })) } })
      }
      return out
    },
  }
}

/**
 * Loopback is never blocked automatically: when the proxy in front is not listed in
 * SEALPOST_TRUSTED_PROXIES every client appears as it, and blocking it would lock everyone out.
 */
function isBlockable(ip: string): boolean {
  try {
    let a = ipaddr.parse(ip)
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address()
    return a.range() !== 'loopback'
  } catch {
    return false
  }
}

/** Authentication bursts block the IP for everyone (the attacker has no organization); other rules, the organization only. */
const blockScope = (s: Signal) => (s.rule === 'auth_failure_burst' ? null : s.orgId)

function outcome(action: string, ok: boolean, at: Date, detail?: string): ActionOutcome {
  return { action, ok, at: at.toISOString(), ...(detail ? { detail } : {}) }
}

export type Responder = ReturnType<typeof createResponder>
