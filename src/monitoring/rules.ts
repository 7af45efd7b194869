import type { Severity } from './table.ts'

/** What an automatic response may do. */
export const ACTIONS = ['notify', 'throttle', 'suspend_key', 'block_ip'] as const
export type Action = (typeof ACTIONS)[number]

export interface RulePolicy {
  actions: Action[]
  /** block_ip: how long the block lasts. */
  blockMinutes: number
  /** throttle: how long the key is held to its learned rate. */
  throttleMinutes: number
}

/**
 * The detectors' rules and what each does by default. An organization may
 * override any rule's actions (PUT /v1/alerts/policy).
 */
export const RULES = {
  auth_failure_burst: { severity: 'high', actions: ['block_ip', 'notify'], description: 'Bursts of failed authentications from one IP or against one key (credential stuffing).' },
  key_compromise_suspected: { severity: 'critical', actions: ['suspend_key', 'block_ip', 'notify'], description: 'A key sends far above its baseline from an IP range it never used before.' },
  request_volume_spike: { severity: 'medium', actions: ['throttle', 'notify'], description: 'A key or organization makes far more requests than its baseline.' },
  send_volume_spike: { severity: 'medium', actions: ['throttle', 'notify'], description: 'A key or organization sends far more messages than its baseline.' },
  new_ip_range: { severity: 'low', actions: ['notify'], description: 'A key is used from an IP range (/24, /48) it has never used.' },
  off_hours_activity: { severity: 'low', actions: ['notify'], description: "A key is used at an hour (UTC) it is almost never used." },
  bounce_rate_spike: { severity: 'high', actions: ['notify'], description: 'The bounce rate of an organization is far above its baseline.' },
  complaint_rate_spike: { severity: 'high', actions: ['notify'], description: 'The complaint rate of an organization is far above its baseline.' },
  key_leaked: { severity: 'high', actions: ['notify'], description: 'A secret-scanning report matched a live key; the key was revoked (POST /v1/keys/leaked).' },
  canary_key_used: { severity: 'critical', actions: ['block_ip', 'notify'], description: 'A canary (decoy) key was presented: whoever holds it took it from where it was planted.' },
} as const satisfies Record<string, { severity: Severity; actions: readonly Action[]; description: string }>

export type RuleName = keyof typeof RULES
export const RULE_NAMES = Object.keys(RULES) as RuleName[]
export const isRuleName = (r: string): r is RuleName => r in RULES

export const DEFAULT_BLOCK_MINUTES = 60
export const DEFAULT_THROTTLE_MINUTES = 30

export function defaultPolicy(rule: RuleName): RulePolicy {
  return { actions: [...RULES[rule].actions], blockMinutes: DEFAULT_BLOCK_MINUTES, throttleMinutes: DEFAULT_THROTTLE_MINUTES }
}
