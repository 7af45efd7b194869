import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { hostname } from 'node:os'
import { isIP } from 'node:net'
import { variables, type VarName, type VarSpec } from './variables.ts'

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface Config {
  dataDir: string
  host: string
  port: number
  publicUrl?: string
  logLevel: string
  databaseUrl?: string
  databasePoolSize: number
  redisUrl?: string
  pepper?: string
  trustedProxies: string[]
  bodyLimit: number
  smtp: { url?: string; caFile?: string; mxPort: number; heloName?: string }
  spfInclude: string
  /** Resolvers for domain checks (empty: the system's). */
  dnsServers: string[]
  crypto: {
    provider: 'local' | 'pkcs11'
    masterKey?: string
    pkcs11: { library?: string; tokenLabel?: string; pin?: string; keyLabel: string }
  }
  tls: { certFile?: string; keyFile?: string; minVersion: 'TLSv1.2' | 'TLSv1.3'; insecureBehindProxy: boolean; hstsMaxAge: number }
  limits: { windowSec: number; perKey: number; perOrg: number; perIp: number; authFailuresPerIp: number; quotaOrg: string; quotaKey: string; quotaPlans: string; quotaOrgRecipients: string; quotaKeyRecipients: string }
  delivery: { maxAttempts: number; concurrency: number; backoffBaseMs: number; backoffMaxMs: number; leaseMs: number; pollMs: number; domainConcurrency: number; domainRatePerMinute: number; signingThreads?: number; allowPrivate: boolean }
  audit: { flushMs: number; flushEvents: number; syslogUrl?: string; syslogCaFile?: string }
  metrics: { token?: string; port?: number; host: string }
  webhooks: { allowPrivate: boolean }
  offload: { threads?: number; taskBudgetMs: number; maxQueue: number }
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number; shedEventLoopDelayMs: number }
  shutdownDeadlineMs: number
  systemMail: { domain?: string; perRecipientPerHour: number }
}

type Raw = Partial<Record<VarName, string>>

/** What node:dns setServers accepts: an IP address, optionally with a port (IPv6 in brackets then). */
function isDnsServer(s: string): boolean {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]+):(\d{1,5})$/.exec(s)
  const [host, port] = m ? [m[1], Number(m[2])] : [s, 53]
  return isIP(host) !== 0 && port >= 1 && port <= 65535
}

function parseOne(name: string, spec: VarSpec, raw: string, problems: string[]): unknown {
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return void problems.push(`${name}: expected an integer`)
      const n = Number(raw)
      if (spec.min !== undefined && n < spec.min) return void problems.push(`${name}: must be >= ${spec.min}`)
      if (spec.max !== undefined && n > spec.max) return void problems.push(`${name}: must be <= ${spec.max}`)
      return n
    }
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(raw)) return void problems.push(`${name}: expected true or false`)
      return raw === 'true' || raw === '1'
    case 'enum':
      if (!spec.values!.includes(raw)) return void problems.push(`${name}: expected one of ${spec.values!.join(', ')}`)
      return raw
    case 'url': {
      let u: URL
      try { u = new URL(raw) } catch { return void problems.push(`${name}: not a valid URL`) }
      const scheme = u.protocol.replace(/:$/, '')
      if (spec.schemes && !spec.schemes.includes(scheme)) {
        return void problems.push(`${name}: expected ${spec.schemes.map((s) => `${s}://`).join(' or ')}`)
      }
      return raw
    }
    case 'csv':
      return raw.split(',').map((s) => s.trim()).filter(Boolean)
    default:
      return raw
  }
}

/**
 * Pure: environment (plus an optional JSON config file named by SEALPOST_CONFIG_FILE,
 * whose keys are the same variable names; the environment wins) → frozen Config.
 * Throws one ConfigError listing every problem, each naming its variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = []
  let fileValues: Record<string, string> = {}
  if (env.SEALPOST_CONFIG_FILE) {
    try {
      const parsed = JSON.parse(readFileSync(env.SEALPOST_CONFIG_FILE, 'utf8'))
      for (const [k, v] of Object.entries(parsed)) fileValues[k] = String(v)
    } catch (e) {
      problems.push(`SEALPOST_CONFIG_FILE: cannot read ${env.SEALPOST_CONFIG_FILE} as JSON (${(e as Error).message})`)
    }
  }
  const merged: Record<string, string | undefined> = { ...fileValues, ...env }
  for (const name of Object.keys(merged)) {
    if (name.startsWith('SEALPOST_') && name !== 'SEALPOST_CONFIG_FILE' && !(name in variables)) {
      problems.push(`${name}: unknown variable (see .env.example)`)
    }
  }
  for (const name of Object.keys(fileValues)) {
    if (!(name in variables)) problems.push(`${name}: unknown variable in SEALPOST_CONFIG_FILE`)
  }
  const v: Record<string, any> = {}
  for (const [name, spec] of Object.entries(variables) as [VarName, VarSpec][]) {
    const raw = merged[name] === '' && spec.default === undefined ? undefined : (merged[name] ?? spec.default)
    v[name] = raw === undefined ? undefined : parseOne(name, spec, raw, problems)
  }
  const r = v as Record<VarName, any>
  if (r.SEALPOST_PEPPER !== undefined && String(r.SEALPOST_PEPPER).length < 32) {
    problems.push('SEALPOST_PEPPER: must be at least 32 characters')
  }
  if (r.SEALPOST_METRICS_TOKEN !== undefined && String(r.SEALPOST_METRICS_TOKEN).length < 32) {
    problems.push('SEALPOST_METRICS_TOKEN: must be at least 32 characters')
  }
  if (r.DELIVERY_BACKOFF_MAX_MS < r.DELIVERY_BACKOFF_BASE_MS) {
    problems.push('DELIVERY_BACKOFF_MAX_MS: must be >= DELIVERY_BACKOFF_BASE_MS')
  }
  if (r.SEALPOST_KEY_PROVIDER === 'pkcs11') {
    for (const n of ['SEALPOST_PKCS11_LIBRARY', 'SEALPOST_PKCS11_TOKEN_LABEL', 'SEALPOST_PKCS11_PIN'] as const) {
      if (!r[n]) problems.push(`${n}: required when SEALPOST_KEY_PROVIDER=pkcs11`)
    }
  }
  if (Boolean(r.SEALPOST_TLS_CERT_FILE) !== Boolean(r.SEALPOST_TLS_KEY_FILE)) {
    problems.push('SEALPOST_TLS_CERT_FILE: set together with SEALPOST_TLS_KEY_FILE')
  }
  for (const server of r.SEALPOST_DNS_SERVERS as string[]) {
    if (!isDnsServer(server)) problems.push(`SEALPOST_DNS_SERVERS: "${server}" is not ip, ip:port or [ipv6]:port`)
  }
  if (r.SEALPOST_HEADERS_TIMEOUT_MS > r.SEALPOST_REQUEST_TIMEOUT_MS) {
    problems.push('SEALPOST_HEADERS_TIMEOUT_MS: must be <= SEALPOST_REQUEST_TIMEOUT_MS')
  }
  if (problems.length) throw new ConfigError(problems)

  return deepFreeze({
    dataDir: resolve(r.SEALPOST_DATA_DIR),
    host: r.SEALPOST_HOST,
    port: r.SEALPOST_PORT,
    publicUrl: r.SEALPOST_PUBLIC_URL,
    logLevel: r.SEALPOST_LOG_LEVEL,
    databaseUrl: r.DATABASE_URL,
    databasePoolSize: r.DATABASE_POOL_SIZE,
    redisUrl: r.REDIS_URL,
    pepper: r.SEALPOST_PEPPER,
    trustedProxies: r.SEALPOST_TRUSTED_PROXIES,
    bodyLimit: r.SEALPOST_BODY_LIMIT,
    spfInclude: r.SEALPOST_SPF_INCLUDE ?? `_spf.${r.SMTP_HELO_NAME ?? hostname()}`,
    dnsServers: r.SEALPOST_DNS_SERVERS,
    smtp: { url: r.SMTP_URL, caFile: r.SMTP_CA_FILE, mxPort: r.SMTP_MX_PORT, heloName: r.SMTP_HELO_NAME },
    crypto: {
      provider: r.SEALPOST_KEY_PROVIDER, masterKey: r.SEALPOST_MASTER_KEY,
      pkcs11: { library: r.SEALPOST_PKCS11_LIBRARY, tokenLabel: r.SEALPOST_PKCS11_TOKEN_LABEL, pin: r.SEALPOST_PKCS11_PIN, keyLabel: r.SEALPOST_PKCS11_KEY_LABEL },
    },
    tls: {
      certFile: r.SEALPOST_TLS_CERT_FILE ? resolve(r.SEALPOST_TLS_CERT_FILE) : undefined,
      keyFile: r.SEALPOST_TLS_KEY_FILE ? resolve(r.SEALPOST_TLS_KEY_FILE) : undefined,
      minVersion: r.SEALPOST_TLS_MIN_VERSION, insecureBehindProxy: r.SEALPOST_HTTP_INSECURE_BEHIND_PROXY, hstsMaxAge: r.SEALPOST_HSTS_MAX_AGE,
    },
    limits: {
      windowSec: r.SEALPOST_RATE_LIMIT_WINDOW_SEC, perKey: r.SEALPOST_RATE_LIMIT_PER_KEY, perOrg: r.SEALPOST_RATE_LIMIT_PER_ORG,
      perIp: r.SEALPOST_RATE_LIMIT_PER_IP, authFailuresPerIp: r.SEALPOST_AUTH_FAILURES_PER_IP,
      quotaOrg: r.SEALPOST_QUOTA_ORG, quotaKey: r.SEALPOST_QUOTA_KEY, quotaPlans: r.SEALPOST_QUOTA_PLANS,
      quotaOrgRecipients: r.SEALPOST_QUOTA_ORG_RECIPIENTS ?? '', quotaKeyRecipients: r.SEALPOST_QUOTA_KEY_RECIPIENTS ?? '',
    },
    delivery: {
      maxAttempts: r.DELIVERY_MAX_ATTEMPTS, concurrency: r.DELIVERY_CONCURRENCY,
      backoffBaseMs: r.DELIVERY_BACKOFF_BASE_MS, backoffMaxMs: r.DELIVERY_BACKOFF_MAX_MS,
      leaseMs: r.DELIVERY_LEASE_MS, pollMs: r.DELIVERY_POLL_MS,
      domainConcurrency: r.DELIVERY_DOMAIN_CONCURRENCY, domainRatePerMinute: r.DELIVERY_DOMAIN_RATE_PER_MINUTE,
      signingThreads: r.DELIVERY_SIGNING_THREADS,
      allowPrivate: r.SEALPOST_DELIVERY_ALLOW_PRIVATE,
    },
    audit: {
      flushMs: r.AUDIT_FLUSH_MS, flushEvents: r.AUDIT_FLUSH_EVENTS, syslogUrl: r.AUDIT_SYSLOG_URL,
      syslogCaFile: r.AUDIT_SYSLOG_CA_FILE ? resolve(r.AUDIT_SYSLOG_CA_FILE) : undefined,
    },
    metrics: { token: r.SEALPOST_METRICS_TOKEN, port: r.SEALPOST_METRICS_PORT, host: r.SEALPOST_METRICS_HOST },
    webhooks: { allowPrivate: r.SEALPOST_WEBHOOK_ALLOW_PRIVATE },
    offload: { threads: r.SEALPOST_OFFLOAD_THREADS, taskBudgetMs: r.SEALPOST_OFFLOAD_TASK_BUDGET_MS, maxQueue: r.SEALPOST_OFFLOAD_MAX_QUEUE },
    http: {
      requestTimeoutMs: r.SEALPOST_REQUEST_TIMEOUT_MS, headersTimeoutMs: r.SEALPOST_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: r.SEALPOST_KEEP_ALIVE_TIMEOUT_MS, shedEventLoopDelayMs: r.SEALPOST_SHED_EVENT_LOOP_DELAY_MS,
    },
    shutdownDeadlineMs: r.SEALPOST_SHUTDOWN_DEADLINE_MS,
    systemMail: { domain: r.SEALPOST_SYSTEM_MAIL_DOMAIN?.toLowerCase(), perRecipientPerHour: r.SEALPOST_SYSTEM_MAIL_PER_HOUR },
  })
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
