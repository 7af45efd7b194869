import type { Selectable } from 'kysely'

export type Severity = 'low' | 'medium' | 'high' | 'critical'
export type AlertStatus = 'open' | 'acknowledged' | 'resolved'

/** One alert per (organization, rule, subject) while it is not resolved; repeats raise `count`. */
export interface MonitoringAlertsTable {
  id: string
  /** Null for alerts no organization owns (credential stuffing with unknown keys). */
  org_id: string | null
  rule: string
  severity: Severity
  status: AlertStatus
  /** `ip`, `key`, `org` */
  subject_type: string
  subject_id: string
  summary: string
  /** JSON: what the detector saw (counts, baseline, window, ranges). */
  evidence: string
  /** JSON array: automatic actions taken, with their outcome. */
  actions: string
  count: number
  first_seen_at: number
  last_seen_at: number
  acknowledged_at: number | null
  acknowledged_by: string | null
  resolved_at: number | null
  resolved_by: string | null
}

/** Blocked client IPs: `org_id` null blocks the IP for every request, else only that organization's. */
export interface MonitoringIpBlocksTable {
  id: string
  org_id: string | null
  ip: string
  reason: string
  alert_id: string | null
  created_at: number
  expires_at: number
  lifted_at: number | null
  lifted_by: string | null
}

/** A key held to a lower request rate after a volume anomaly. */
export interface MonitoringThrottlesTable {
  id: string
  org_id: string
  key_id: string
  per_minute: number
  alert_id: string | null
  created_at: number
  expires_at: number
}

/** Per-organization response policy and notification channels. */
export interface MonitoringPoliciesTable {
  org_id: string
  /** JSON: { [rule]: { actions: string[], blockMinutes?, throttleMinutes? } } overriding the defaults. */
  rules: string
  webhook_url: string | null
  /** Sealed with the FieldCipher (never stored in clear). */
  webhook_secret: string | null
  /** JSON array of addresses. */
  emails: string
  updated_at: number
  updated_by: string | null
}

export interface MonitoringTables {
  monitoring_alerts: MonitoringAlertsTable
  monitoring_ip_blocks: MonitoringIpBlocksTable
  monitoring_throttles: MonitoringThrottlesTable
  monitoring_policies: MonitoringPoliciesTable
}

export type AlertRow = Selectable<MonitoringAlertsTable>
export type IpBlockRow = Selectable<MonitoringIpBlocksTable>
