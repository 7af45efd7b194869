/**
 * Every environment variable Sealpost reads, documented once. `.env.example`
 * is checked against this list by a test, so the docs cannot drift.
 */
export type VarKind = 'string' | 'int' | 'bool' | 'url' | 'csv' | 'enum' | 'path'

export interface VarSpec {
  kind: VarKind
  description: string
  default?: string
  values?: readonly string[]
  /** Never printed, logged or echoed in an error. */
  secret?: boolean
  min?: number
  max?: number
  /** URL schemes accepted for kind url. */
  schemes?: readonly string[]
}

export const variables = {
  SEALPOST_DATA_DIR: { kind: 'path', default: './data', description: 'Folder for the SQLite database, keyfiles and generated certificates.' },
  SEALPOST_HOST: { kind: 'string', default: '127.0.0.1', description: 'Address the API listens on.' },
  SEALPOST_PORT: { kind: 'int', default: '3000', min: 0, max: 65535, description: 'Port the API listens on.' },
  SEALPOST_PUBLIC_URL: { kind: 'url', schemes: ['http', 'https'], description: 'Public base URL (links in unsubscribe headers, OAuth issuer). Defaults to the listener address.' },
  SEALPOST_LOG_LEVEL: { kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'pino log level.' },
  DATABASE_URL: { kind: 'url', schemes: ['postgres', 'postgresql'], secret: true, description: 'PostgreSQL connection URL. Unset: embedded SQLite under SEALPOST_DATA_DIR.' },
  DATABASE_POOL_SIZE: { kind: 'int', default: '10', min: 1, max: 200, description: 'PostgreSQL pool size per process.' },
  REDIS_URL: { kind: 'url', schemes: ['redis', 'rediss'], secret: true, description: 'Redis URL for shared rate limits and queues across processes. Unset: in-process.' },
  SEALPOST_PEPPER: { kind: 'string', secret: true, description: 'Server pepper (>= 32 chars) for API key HMACs. Unset: read from DATA_DIR/pepper.key, created by init with mode 0600.' },
  SEALPOST_KEY_PROVIDER: { kind: 'enum', default: 'local', values: ['local', 'pkcs11'], description: 'Where key-encryption keys (KEKs) live: local (SEALPOST_MASTER_KEY or DATA_DIR/master.key) or pkcs11 (an HSM).' },
  SEALPOST_MASTER_KEY: { kind: 'string', secret: true, description: 'local provider: 256-bit KEK, base64 or hex (or a keyring "2:<key>,1:<key>", highest version current). Unset: DATA_DIR/master.key, created with mode 0600.' },
  SEALPOST_PKCS11_LIBRARY: { kind: 'path', description: 'pkcs11 provider: PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.' },
  SEALPOST_PKCS11_TOKEN_LABEL: { kind: 'string', description: 'pkcs11 provider: label of the token holding the KEKs.' },
  SEALPOST_PKCS11_PIN: { kind: 'string', secret: true, description: 'pkcs11 provider: user PIN of the token.' },
  SEALPOST_PKCS11_KEY_LABEL: { kind: 'string', default: 'sealpost-kek', description: 'pkcs11 provider: label prefix of the AES KEK objects (<prefix>-<version>).' },
  SEALPOST_TLS_CERT_FILE: { kind: 'path', description: 'HTTPS certificate chain (PEM); reloaded when the file changes. Unset: a self-signed localhost certificate in DATA_DIR/tls/.' },
  SEALPOST_TLS_KEY_FILE: { kind: 'path', description: 'HTTPS private key (PEM), with SEALPOST_TLS_CERT_FILE.' },
  SEALPOST_TLS_MIN_VERSION: { kind: 'enum', default: 'TLSv1.2', values: ['TLSv1.2', 'TLSv1.3'], description: 'Oldest TLS version the HTTPS listener accepts.' },
  SEALPOST_HTTP_INSECURE_BEHIND_PROXY: { kind: 'bool', default: 'false', description: 'Serve plain HTTP, only behind a TLS-terminating reverse proxy.' },
  SEALPOST_HSTS_MAX_AGE: { kind: 'int', default: '31536000', min: 0, description: 'Strict-Transport-Security max-age in seconds (0 disables HSTS).' },
  SEALPOST_TRUSTED_PROXIES: { kind: 'csv', default: '', description: 'CIDRs of reverse proxies whose X-Forwarded-For is believed. Empty: the socket address is the client.' },
  SEALPOST_BODY_LIMIT: { kind: 'int', default: '26214400', min: 1024, description: 'Largest request body in bytes (attachments are base64 inside it).' },
  SEALPOST_SPF_INCLUDE: { kind: 'string', description: 'Host customers include in their SPF record (v=spf1 include:HOST ~all). Defaults to _spf.<SMTP_HELO_NAME or host name>.' },
  SEALPOST_DNS_SERVERS: { kind: 'csv', default: '', description: 'DNS resolvers (ip, ip:port or [ipv6]:port) that domain checks ask for the ownership, DKIM, SPF and DMARC records. Empty: the system resolver.' },
  SEALPOST_RATE_LIMIT_WINDOW_SEC: { kind: 'int', default: '60', min: 1, max: 86400, description: 'Window of the per-key, per-org and per-IP request rate limits, in seconds.' },
  SEALPOST_RATE_LIMIT_PER_KEY: { kind: 'int', default: '600', min: 0, description: 'Requests per window per API key / token (0: no limit).' },
  SEALPOST_RATE_LIMIT_PER_ORG: { kind: 'int', default: '1200', min: 0, description: 'Requests per window per organization, all its credentials together (0: no limit).' },
  SEALPOST_RATE_LIMIT_PER_IP: { kind: 'int', default: '300', min: 0, description: 'Requests per window per client IP on unauthenticated (public) routes (0: no limit).' },
  SEALPOST_AUTH_FAILURES_PER_IP: { kind: 'int', default: '60', min: 0, description: 'Failed authentications (a wrong credential, not a missing one) per window per client IP before that IP gets 429 (0: no limit).' },
  SEALPOST_QUOTA_ORG: { kind: 'string', default: '0/0/0', description: 'Default sending quota per organization: messages per minute/hour/day[/month] (month = UTC calendar month; 0: no limit). Org settings { plan } or { quotas } override it.' },
  SEALPOST_QUOTA_KEY: { kind: 'string', default: '0/0/0', description: 'Default sending quota per API key / token: messages per minute/hour/day[/month] (0: no limit).' },
  SEALPOST_QUOTA_ORG_RECIPIENTS: { kind: 'string', description: 'Default recipient quota per organization (to + cc + bcc): per minute/hour/day (0: no limit). Unset: the same numbers as SEALPOST_QUOTA_ORG (after plan and org settings).' },
  SEALPOST_QUOTA_KEY_RECIPIENTS: { kind: 'string', description: 'Default recipient quota per API key / token: per minute/hour/day (0: no limit). Unset: the same numbers as SEALPOST_QUOTA_KEY.' },
  SEALPOST_QUOTA_PLANS: { kind: 'string', default: '{}', description: 'Named plans as JSON, e.g. {"free":{"org":"10/100/1000","key":"5/50/500"}}; an org whose settings say { "plan": "free" } gets them.' },
  SEALPOST_METRICS_TOKEN: { kind: 'string', secret: true, description: 'Bearer token (>= 32 chars) that GET /metrics on the API port requires. Unset: /metrics is not served on the API port.' },
  SEALPOST_METRICS_PORT: { kind: 'int', min: 0, max: 65535, description: 'Serve Prometheus /metrics (no token) on this separate port, bound to SEALPOST_METRICS_HOST. Unset: no separate listener.' },
  SEALPOST_METRICS_HOST: { kind: 'string', default: '127.0.0.1', description: 'Address of the separate metrics listener (keep it on an internal interface).' },
  AUDIT_FLUSH_MS: { kind: 'int', default: '250', min: 1, max: 60000, description: 'Audit events are written in batches: at most this long after the first buffered event.' },
  AUDIT_FLUSH_EVENTS: { kind: 'int', default: '200', min: 1, max: 10000, description: 'Audit events are written in batches: as soon as this many are buffered.' },
  AUDIT_SYSLOG_URL: { kind: 'url', schemes: ['tls'], description: 'SIEM receiver for audit events: syslog (RFC 5424) over TLS (RFC 5425, octet counting), e.g. tls://siem.internal:6514. Unset: no forwarding.' },
  AUDIT_SYSLOG_CA_FILE: { kind: 'path', description: 'CA certificate (PEM) trusted for the SIEM receiver, in addition to the system roots.' },
  SEALPOST_WEBHOOK_ALLOW_PRIVATE: { kind: 'bool', default: 'false', description: 'The one escape hatch of the outbound SSRF guard (customer and alert webhooks): let them target loopback and private networks (RFC 1918, CGNAT, ULA), localhost-style names, and plain http:// to loopback (tests, development). Link-local/metadata, multicast, documentation and reserved ranges stay refused. Off: https only, global unicast only.' },
  SEALPOST_SYSTEM_MAIL_DOMAIN: { kind: 'string', description: 'Sending domain (registered in an organization, usually the operator\'s) for Sealpost\'s own mail: verification, invitations, password resets, alerts, sent as no-reply@DOMAIN through the delivery pipeline. Unset: the first domain of the first organization (the bootstrap domain).' },
  SEALPOST_SYSTEM_MAIL_PER_HOUR: { kind: 'int', default: '10', min: 1, max: 1000, description: 'System mails per recipient address per hour; more are dropped (logged and audited), so a public form cannot flood an inbox.' },
  SMTP_URL: { kind: 'url', schemes: ['smtp', 'smtps'], secret: true, description: 'Relay to deliver through (smtp:// uses STARTTLS, required; smtps:// implicit TLS). Unset: deliver to each recipient domain MX.' },
  SMTP_CA_FILE: { kind: 'path', description: 'Extra CA certificate (PEM) trusted for outbound SMTP TLS, e.g. a private relay or a test sink.' },
  SEALPOST_DELIVERY_ALLOW_PRIVATE: { kind: 'bool', default: 'false', description: 'Development and tests only: let direct-to-MX delivery connect to MX hosts on loopback and private networks (RFC 1918, CGNAT, ULA). Link-local/metadata, multicast, documentation and reserved ranges stay refused. Off: a recipient domain whose MX hosts resolve only to non-public addresses fails (SMTP SSRF guard). SMTP_URL is not checked.' },
  SMTP_MX_PORT: { kind: 'int', default: '25', min: 1, max: 65535, description: 'Port used for direct-to-MX delivery.' },
  SMTP_HELO_NAME: { kind: 'string', description: 'Name announced in EHLO. Defaults to the host name.' },
  DELIVERY_MAX_ATTEMPTS: { kind: 'int', default: '8', min: 1, max: 50, description: 'Delivery attempts before a message is failed.' },
  DELIVERY_CONCURRENCY: { kind: 'int', default: '16', min: 1, max: 512, description: 'Messages a worker process delivers at once.' },
  DELIVERY_BACKOFF_BASE_MS: { kind: 'int', default: '60000', min: 10, description: 'First retry delay; doubles each attempt, with jitter.' },
  DELIVERY_BACKOFF_MAX_MS: { kind: 'int', default: '14400000', min: 10, description: 'Longest retry delay.' },
  DELIVERY_LEASE_MS: { kind: 'int', default: '120000', min: 1000, description: 'How long a worker owns a claimed message before another may take it.' },
  DELIVERY_POLL_MS: { kind: 'int', default: '500', min: 10, description: 'Queue poll interval when idle.' },
  DELIVERY_DOMAIN_CONCURRENCY: { kind: 'int', default: '5', min: 1, max: 100, description: 'Per destination: SMTP connections (pool size; also per relay) and, direct to MX, messages in flight at once.' },
  DELIVERY_DOMAIN_RATE_PER_MINUTE: { kind: 'int', default: '600', min: 1, description: 'Direct to MX: messages per minute to one recipient domain (a relay throttles on its own).' },
  DELIVERY_SIGNING_THREADS: { kind: 'int', min: 0, max: 64, description: 'Worker threads that build and DKIM-sign messages (0: on the event loop). Defaults to CPUs - 1, at least 1, at most 4.' },
  SEALPOST_OFFLOAD_THREADS: { kind: 'int', min: 1, max: 64, description: 'Worker threads for heavy work on untrusted input (HTML sanitising, attachment sniffing, header checks), off the event loop. Defaults to min(2, CPUs).' },
  SEALPOST_OFFLOAD_TASK_BUDGET_MS: { kind: 'int', default: '2000', min: 50, max: 60000, description: 'Longest one offloaded task (one message validation) may run; over it, its thread is terminated and the request gets 422 content_too_complex.' },
  SEALPOST_OFFLOAD_MAX_QUEUE: { kind: 'int', default: '64', min: 0, max: 100000, description: 'Offloaded tasks that may wait for a free thread; beyond it requests get 503 server_busy with Retry-After.' },
  SEALPOST_SHED_EVENT_LOOP_DELAY_MS: { kind: 'int', default: '500', min: 0, max: 60000, description: 'Load shedding: when the p99 event-loop delay of the last second exceeds this, requests get 503 server_busy with Retry-After (/healthz and /readyz still answer). 0 disables.' },
  SEALPOST_REQUEST_TIMEOUT_MS: { kind: 'int', default: '30000', min: 1000, max: 600000, description: 'Longest time a client may take to send a whole request (headers and body); a slower one gets 408 request_timeout and its connection is closed.' },
  SEALPOST_HEADERS_TIMEOUT_MS: { kind: 'int', default: '10000', min: 1000, max: 600000, description: 'Longest time a client may take to send the request headers (at most SEALPOST_REQUEST_TIMEOUT_MS).' },
  SEALPOST_KEEP_ALIVE_TIMEOUT_MS: { kind: 'int', default: '72000', min: 1000, max: 600000, description: 'How long an idle keep-alive connection stays open (above a load balancer idle timeout, typically 60 s).' },
  SEALPOST_SHUTDOWN_DEADLINE_MS: { kind: 'int', default: '25000', min: 1000, max: 600000, description: 'On SIGTERM/SIGINT the process drains for at most this long, then exits anyway (logging what was cut).' },
} as const satisfies Record<string, VarSpec>

export type VarName = keyof typeof variables
