/**
 * Composition root: builds every service once, with explicit dependencies, and
 * the HTTP app on top. No container: reading this file shows the whole wiring.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from './config/load.ts'
import { systemClock, type Clock } from './core/clock.ts'
import type { Storage } from './storage/db.ts'
import { buildHttp, type App } from './http/server.ts'
import { createAuthenticateHook } from './auth/authenticate.ts'
import { createAuthorizeHook } from './access/authorize.ts'
import { createLimits } from './limits/limits.ts'
import { createApiKeyAuthenticator } from './keys/authenticator.ts'
import { createConditionChecks } from './access/conditions.ts'
import { createOrgKeyPolicy } from './keys/policy.ts'
import { createKeyService } from './keys/service.ts'
import { createLeakedKeyService } from './keys/leaked.ts'
import { createKeyExpiryHeaderHook } from './keys/expiry-header.ts'
import { keyRoutes } from './keys/routes.ts'
import { createCanaryKeys } from './keys/canary.ts'
import { canaryKeyRoutes } from './keys/canary-routes.ts'
import { healthRoutes } from './http/health-routes.ts'
import { createSessionAuthenticator } from './auth/session.ts'
import { createUsers, type Users } from './users/module.ts'
import { userRoutes } from './users/routes.ts'
import { loadSession } from './users/routes/context.ts'
import type { MailSender } from './users/mail.ts'
import { createStepUp } from './users/step-up.ts'
import { oauthUsersPort } from './users/oauth-port.ts'
import type { KeyProvider } from './crypto/key-provider.ts'
import { openKeyProvider } from './crypto/open-provider.ts'
import { createEnvelope, type Envelope } from './crypto/envelope.ts'
import { createColumnRegistry, type ColumnRegistry } from './crypto/registry.ts'
import { messageEncryptedColumns } from './messages/table.ts'
import { domainEncryptedColumns } from './domains/table.ts'
import { suppressionEncryptedColumns } from './suppressions/table.ts'
import type { TlsSetup } from './http/tls.ts'
import { securityHeaders } from './http/security-headers.ts'
import { createContactService, contactEncryptedColumns } from './contacts/service.ts'
import { contactRoutes } from './contacts/routes.ts'
import { withContactOptOuts } from './contacts/opt-outs.ts'
import type { AuditRecorder } from './core/audit-sink.ts'
import type { AuditService } from './audit/service.ts'
import { setupAudit } from './audit/setup.ts'
import { auditRoutes } from './audit/routes.ts'
import { setupMonitoring, type Monitoring } from './monitoring/setup.ts'
import { withOutcomeMonitoring } from './monitoring/outcome-source.ts'
import { parseKey } from './keys/format.ts'
import { findSecretWithKey } from './keys/store.ts'
import { SqlQueue } from './queue/sql-queue.ts'
import type { MessageSource } from './delivery/contract.ts'
import { createDomainService, type DomainService } from './domains/service.ts'
import { resolverFor, systemResolver, type TxtResolver } from './domains/dns-check.ts'
import { domainRoutes } from './domains/routes.ts'
import { createMessageService, type SendQuota } from './messages/service.ts'
import { createMessageReads } from './messages/reads.ts'
import { createMessageSource } from './messages/source.ts'
import { messageRoutes } from './messages/routes.ts'
import { createScheduleService } from './messages/schedule.ts'
import { createLegalHoldService } from './legal-hold/service.ts'
import { legalHoldRoutes } from './legal-hold/routes.ts'
import type { BootstrapDeps } from './orgs/bootstrap.ts'
import type { MxResolver } from './delivery/mx.ts'
import { createDeliveryRuntime } from './delivery/runtime.ts'
import { createSuppressionService } from './suppressions/service.ts'
import { createUnsubscribeTokens } from './suppressions/unsubscribe-token.ts'
import { suppressionRoutes } from './suppressions/routes.ts'
import { createOAuth, type OAuth } from './oauth/service.ts'
import { noUsers, type OAuthUsers } from './oauth/users-port.ts'
import { listenerBaseUrl } from './oauth/listener-url.ts'
import { findOrg } from './orgs/store.ts'
import { createMaintenance, maintenanceTasks, type Maintenance } from './app-maintenance.ts'
import { createOutboundGuard, type OutboundGuard } from './net/guard.ts'
import type { ResolveHost } from './net/resolve.ts'
import type { WebhookTransport } from './webhooks/transport.ts'
import { webhookEncryptedColumns } from './webhooks/table.ts'
import { createWebhookOutbox } from './webhooks/outbox.ts'
import { createWebhookService } from './webhooks/service.ts'
import { createWebhookDispatcher } from './webhooks/dispatcher.ts'
import { webhookRoutes } from './webhooks/routes.ts'
import { availableParallelism } from 'node:os'
import { createOffloadPool, type OffloadPool } from './offload/pool.ts'
import { TASKS_MODULE, type SealpostTasks } from './offload/tasks.ts'
import { offloadedDraftValidator } from './messages/draft.ts'
import { createSystemMailer } from './system-mail/sender.ts'
import { createPasswordReset } from './system-mail/password-reset.ts'
import { createSystemMailLog } from './system-mail/service.ts'
import { systemMailRoutes } from './system-mail/routes.ts'

export interface AppDeps {
  config: Config
  storage: Storage
  pepper: string
  clock?: Clock
  logStream?: NodeJS.WritableStream
  /** KEK source; default: openKeyProvider(config) (closed with the app only when opened here). */
  keyProvider?: KeyProvider
  /** HTTPS for the listener (main.ts: prepareTls(config)); absent for in-process use (tests, CLI). */
  tls?: TlsSetup | null
  /** DNS TXT lookups for domain verification (tests inject their own zone). */
  dnsResolver?: TxtResolver
  /** MX lookups for direct delivery (tests point recipient domains at loopback sinks). */
  mxResolver?: MxResolver
  /** Address lookups of the outbound guard, for webhook and alert URLs and MX hosts (tests play DNS, rebinding included). */
  hostResolver?: ResolveHost
  /** Sends system mail (verification, invitations, password resets, alerts). Default: system-mail/, through the delivery pipeline; tests may pass an in-memory outbox. */
  mailSender?: MailSender
  /** Users for the OAuth login pages (default: none can sign in there). */
  oauthUsers?: OAuthUsers
  /** Housekeeping interval in the worker role (default 15 min; 0 disables the timer, tests call maintenance.tick()). */
  maintenanceEveryMs?: number
}

export interface Sealpost {
  http: App
  deps: Required<Pick<AppDeps, 'config' | 'storage' | 'pepper' | 'clock'>>
  /** FieldCipher for encryption at rest (per-org / per-subject DEKs under the provider's KEK). */
  envelope: Envelope
  /** Encrypted columns, for data-key rotation (`dek rotate`): every domain registers its own. */
  cryptoColumns: ColumnRegistry
  queue: SqlQueue
  /** What delivery workers read and write (messages/ implements it). */
  messageSource: MessageSource
  domains: DomainService
  audit: AuditService
  /** Metrics, alerts, automatic responses; delivery/ reports outcomes to monitoring.monitor.recordDeliveryOutcome. */
  monitoring: Monitoring
  /** The one SSRF guard every outbound URL goes through (net/guard.ts). */
  outbound: OutboundGuard
  /** Users, sessions, MFA, memberships and roles. */
  users: Users
  /** Where system mail goes (system-mail/ by default; tests that passed an in-memory outbox read it). */
  systemMail: MailSender
  /** What `init` and first start need to create the first organization. */
  bootstrapDeps: BootstrapDeps
  /** Starts delivery workers in this process (roles `worker` and `all`). */
  startWorkers(): Promise<{ stop(): Promise<void> }>
  /** Housekeeping (sessions, throttle counters, audit retention, idempotency keys, delivery pauses); startWorkers runs it on a timer. */
  maintenance: Maintenance
  oauth: OAuth
  /** Worker threads for heavy work on untrusted input (message validation), with a per-task time budget. */
  offload: OffloadPool<SealpostTasks>
  close(): Promise<void>
}

export async function buildApp(input: AppDeps): Promise<Sealpost> {
  const clock = input.clock ?? systemClock
  const { config, storage, pepper } = input
  const { db } = storage

  const keyPolicy = createOrgKeyPolicy({ db, clock })
  const keyAuth = createApiKeyAuthenticator({ db, pepper, clock, policy: keyPolicy })
  const bootWarnings: string[] = []
  const keyProvider = input.keyProvider ?? await openKeyProvider(config, { warn: (m) => bootWarnings.push(m) })
  const envelope = await createEnvelope({ db, provider: keyProvider, clock })
  const cryptoColumns = createColumnRegistry()
  cryptoColumns.register(...contactEncryptedColumns, ...messageEncryptedColumns, ...domainEncryptedColumns, ...suppressionEncryptedColumns, ...webhookEncryptedColumns)
  // Step-up (fresh second factor) for session users: declared per route (`config.stepUp`), enforced by the authorize step.
  const stepUp = createStepUp({ clock })
  const contacts = createContactService({ db, envelope, clock, legalHold: { assertErasable: (orgId, id) => legalHolds.assertErasable(orgId, id) } })
  // Audit: batched, hash-chained; the signing key is sealed by the envelope (key provider).
  const auditService = await setupAudit({ config, db, clock, cipher: envelope, onError: (what, err) => http.log.warn({ err }, what) })
  const audit: AuditRecorder = auditService.recorder
  const legalHolds = createLegalHoldService({ db, clock, audit })
  const keys = createKeyService({
    db, pepper, clock, audit, policy: keyPolicy,
    // `monitoring` is built below; this runs only on a request, after boot.
    onReinstated: (keyId) => monitoring.enforcement.markReinstated(keyId),
  })
  const leakedKeys = createLeakedKeyService({
    db, pepper, clock, audit,
    // A revoked leaked key is an alert (severity high) that notifies the org's channels; after boot only.
    onRevoked: (r) => monitoring.alerts.raise({
      rule: 'key_leaked', severity: 'high', orgId: r.orgId, subject: { type: 'key', id: r.keyId }, keyId: r.keyId, ip: null, at: r.at,
      summary: `API key ${r.keyId} was reported exposed by secret scanning and has been revoked; issue a replacement`,
      evidence: { keyId: r.keyId, type: r.type, url: r.url, source: r.source },
    }),
    onError: (what, err) => http.log.error({ err }, what),
  })
  // Decoy keys: any use raises a critical alert with the source IP; its policy blocks the IP and notifies.
  const canaries = createCanaryKeys({
    db, pepper, clock, audit,
    onUse: (u) => monitoring.alerts.raise({
      rule: 'canary_key_used', severity: 'critical', orgId: u.orgId, subject: { type: 'ip', id: u.ip }, keyId: u.keyId, ip: u.ip, at: u.at,
      summary: `Canary key ${u.keyId} was used from ${u.ip}: it leaked from where it was planted`,
      evidence: { keyId: u.keyId, ip: u.ip, method: u.method, route: u.route, userAgent: u.userAgent },
    }),
    onError: (what, err) => http.log.error({ err }, what),
  })

  const queue = new SqlQueue(db, {
    clock, perDomain: !config.smtp.url, leaseMs: config.delivery.leaseMs, maxAttempts: config.delivery.maxAttempts,
    backoff: { baseMs: config.delivery.backoffBaseMs, maxMs: config.delivery.backoffMaxMs },
  })
  const domains = createDomainService({ db, cipher: envelope, clock, audit, resolver: input.dnsResolver ?? (config.dnsServers.length ? resolverFor(config.dnsServers) : systemResolver), spfInclude: config.spfInclude })
  // Every outbound URL (customer and alert webhooks, later MTA-STS/TLS-RPT) goes through this one SSRF guard;
  // SEALPOST_WEBHOOK_ALLOW_PRIVATE is its only escape hatch, read here and nowhere else.
  const outbound = createOutboundGuard({ allowPrivate: config.webhooks.allowPrivate, resolve: input.hostResolver })
  // Monitoring: metrics, anomaly detectors, alerts and automatic responses (block IP, suspend/throttle key, notify).
  const monitoring = await setupMonitoring({
    config, db, clock, audit, cipher: envelope, queue, outbound,
    auditStats: () => ({ ...auditService.writer.stats(), siemQueued: auditService.forwarder?.stats().queued ?? 0 }),
    credentialHint: (h) => parseKey(/^Bearer (\S+)$/.exec(h ?? '')?.[1] ?? '')?.lookupId ?? null,
    resolveCredential: async (lookupId) => { const k = await findSecretWithKey(db, lookupId); return k ? { orgId: k.org_id, keyId: k.id } : null },
    onError: (what, err) => http.log.warn({ err }, what),
    // Alert emails are system mail (built below; called only when an alert fires, after boot).
    mailer: { send: (m) => systemMail.send({ ...m, kind: 'alert' }) },
  })
  const limits = createLimits({ config, db, clock })
  // Before serving: a request that arrives while Redis connects would be counted per process.
  const limitsWarning = await limits.ready()
  if (limitsWarning) bootWarnings.push(limitsWarning)
  const quota: SendQuota = limits.quotas
  const suppressions = createSuppressionService({ db, cipher: envelope, clock, audit })
  const unsubscribeTokens = createUnsubscribeTokens(pepper)
  const publicUrl = config.publicUrl ?? `https://${config.host}:${config.port}`
  // System mail: Sealpost's own messages go through its own send path (no customer quota; per-recipient cap instead).
  const systemMessages = createMessageService({ db, cipher: envelope, queue, clock, domains, quota: { reserve: async () => {} }, suppressions,
    // The offload pool is built below; this runs only when a mail is sent, after boot.
    validateDrafts: (...args) => offloadedDraftValidator(offload)(...args) })
  const systemMail: MailSender = input.mailSender ?? createSystemMailer({
    db, clock, pepper, audit, submit: (p, m) => systemMessages.send(p, m), domain: config.systemMail.domain,
    perRecipientPerHour: config.systemMail.perRecipientPerHour, onError: (what, err) => http.log.error({ err }, what),
  })
  const users = createUsers({ db, clock, pepper, cipher: envelope, audit, mail: systemMail, publicUrl, stepUp,
    // `oauth` is built below; these run only on a request, after boot.
    tokenRevocation: { memberRemoved: (o, u) => oauth.tokenRevocation.memberRemoved(o, u), accountDeactivated: (u) => oauth.tokenRevocation.accountDeactivated(u) },
    // Without a configured public URL, browsers' Origin is compared with the Host they addressed.
    allowedOrigins: config.publicUrl ? undefined : [] })
  const passwordReset = createPasswordReset({ db, clock, audit, mail: systemMail, publicUrl, sessions: users.sessions, onError: (what, err) => http.log.error({ err }, what) })
  const sessionAuth = createSessionAuthenticator({
    load: (req) => loadSession({ gate: users.gate, sessions: users.sessions, allowedOrigins: users.allowedOrigins }, req),
    principalOf: users.gate.principalOf,
  })
  // Heavy work on untrusted input (message validation) runs in worker threads with a time budget.
  const offload = createOffloadPool<SealpostTasks>({
    tasks: TASKS_MODULE, threads: config.offload.threads ?? Math.min(2, availableParallelism()),
    taskBudgetMs: config.offload.taskBudgetMs, maxQueue: config.offload.maxQueue,
  })
  const messages = createMessageService({ db, cipher: envelope, queue, clock, domains, quota, suppressions: withContactOptOuts(suppressions, contacts), validateDrafts: offloadedDraftValidator(offload) })
  const messageReads = createMessageReads({ db, cipher: envelope })
  // Customer webhooks: events go to an outbox in the outcome's transaction; the dispatcher (with the
  // workers) signs and POSTs them through the outbound guard (the same one as alert webhooks).
  const webhookTransport: WebhookTransport = outbound
  const webhookOutbox = createWebhookOutbox({ db, cipher: envelope })
  const webhooks = createWebhookService({ db, cipher: envelope, clock, audit, transport: webhookTransport })
  const messageSource = createMessageSource({
    db, cipher: envelope, keys: domains, suppressions, events: webhookOutbox,
    unsubscribeUrl: (orgId, messageId, recipient) => `${publicUrl}/v1/unsubscribe/${unsubscribeTokens.sign(orgId, messageId, recipient)}`,
  })

  // OAuth 2.1 server under /oauth; its issuer is the public URL, or the listening address when none is set.
  const oauth = createOAuth({
    db, clock, pepper, cipher: envelope, audit, users: input.oauthUsers ?? oauthUsersPort(users),
    orgName: async (id) => (await findOrg(db, id))?.name ?? null,
    baseUrl: () => (config.publicUrl ?? listenerBaseUrl(http)).replace(/(?<!\/)\/+$/, ''),
    trustProxy: config.trustedProxies.length > 0,
  })

  const routes: FastifyPluginAsync[] = [
    healthRoutes({ db }),
    userRoutes(users),
    keyRoutes({ keys, leaked: leakedKeys }),
    canaryKeyRoutes(canaries),
    domainRoutes(domains),
    messageRoutes(messages, messageReads, createScheduleService({ db, clock, audit })),
    contactRoutes(contacts),
    legalHoldRoutes(legalHolds),
    suppressionRoutes({ suppressions, tokens: unsubscribeTokens, recipients: messageReads }),
    auditRoutes(auditService),
    monitoring.routes,
    webhookRoutes(webhooks),
    oauth.routes,
    systemMailRoutes({ reset: passwordReset, log: createSystemMailLog({ db }), allowedOrigins: users.allowedOrigins }),
  ]

  const http = await buildHttp({
    logLevel: config.logLevel,
    logStream: input.logStream,
    bodyLimit: config.bodyLimit,
    trustedProxies: config.trustedProxies,
    https: input.tls?.options ?? null,
    securityHeaders: securityHeaders({ hstsMaxAge: config.tls.hstsMaxAge }),
    timeouts: { requestMs: config.http.requestTimeoutMs, headersMs: config.http.headersTimeoutMs, keepAliveMs: config.http.keepAliveTimeoutMs },
    loadShedding: { maxEventLoopDelayMs: config.http.shedEventLoopDelayMs },
    jsonOffload: { minBytes: 256 * 1024, parse: (body) => offload.run('parseJsonBody', body) },
    steps: {
      authenticate: limits.guardAuthentication(createAuthenticateHook([keyAuth, oauth.authenticator], [sessionAuth])),
      rateLimit: limits.rateLimit,
      authorize: createAuthorizeHook(createConditionChecks({ clock }), { stepUp: stepUp.require }),
      beforeAuth: monitoring.steps.beforeAuth,
      guards: [createKeyExpiryHeaderHook({ policy: keyPolicy, clock }), ...monitoring.steps.guards],
      onResponse: [auditService.responseHook, ...monitoring.steps.onResponse, canaries.responseHook],
    },
    routes,
  })

  for (const w of bootWarnings) http.log.warn(w)
  const maintenance = createMaintenance({
    tasks: maintenanceTasks({ db, clock, users, audit: auditService, queue, log: http.log }),
    everyMs: input.maintenanceEveryMs, log: http.log,
  })

  return {
    http,
    deps: { config, storage, pepper, clock },
    envelope,
    cryptoColumns,
    queue,
    messageSource,
    domains,
    audit: auditService,
    monitoring,
    outbound,
    bootstrapDeps: { db, pepper, clock, createDomain: domains.create, createOwner: (orgId, email) => users.accounts.createOwner(orgId, email) },
    async startWorkers() {
      // Transport (relay or MX, TLS policy), DKIM signing threads and the worker, from Config.
      // Outcomes also feed monitoring (delivery metrics, bounce-rate baselines).
      const delivery = await createDeliveryRuntime({ config, db, queue, source: withOutcomeMonitoring(messageSource, monitoring.monitor), clock, logger: http.log, resolver: input.mxResolver, resolveHost: input.hostResolver })
      const webhookDispatcher = createWebhookDispatcher({ db, cipher: envelope, clock, transport: webhookTransport, logger: http.log, config: { pollMs: config.delivery.pollMs } })
      delivery.worker.start()
      webhookDispatcher.start()
      maintenance.start()
      return {
        async stop() { await maintenance.stop(); await webhookDispatcher.stop(); await delivery.close() },
      }
    },
    maintenance,
    users,
    systemMail,
    oauth,
    offload,
    async close() {
      await maintenance.stop()
      oauth.close()
      await http.close()
      await passwordReset.settled()
      await leakedKeys.settled()
      await canaries.settled()
      await offload.close()
      // After the listener: in-flight requests have been audited; flush and sign what is buffered.
      await monitoring.close()
      await auditService.close()
      if (!input.keyProvider) await keyProvider.close()
      await limits.close()
    },
  }
}
