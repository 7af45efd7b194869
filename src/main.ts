/**
 * Process entry: `node src/main.ts [--role api|worker|all]` (default all).
 * config → secrets → storage → services → HTTP and/or delivery workers;
 * first start on an empty database runs `init`; SIGTERM/SIGINT drain gracefully.
 */
import { parseArgs } from 'node:util'
import { ConfigError } from './config/load.ts'
import { PrivateModeError } from './core/private-file.ts'
import { openRuntime } from './boot.ts'
import { buildApp } from './app.ts'
import { prepareTls, watchCertificate } from './http/tls.ts'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { bootstrap, bootstrapReport, isBootstrapped } from './orgs/bootstrap.ts'
import { INIT_DEFAULTS } from './cli/commands/init.ts'
import { handOverSecrets, INITIAL_CREDENTIALS_FILE } from './cli/secret-handoff.ts'

type Role = 'api' | 'worker' | 'all'

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } })
  const role = values.role as Role
  if (!['api', 'worker', 'all'].includes(role)) throw new ConfigError([`--role: expected api, worker or all (got ${role})`])

  const rt = await openRuntime(process.env, { createSecrets: true })
  const tlsNotices: string[] = []
  const tls = role === 'worker' ? null : prepareTls(rt.config, { warn: (m) => tlsNotices.push(m) })
  const app = await buildApp({ ...rt, tls })
  const log = app.http.log
  if (rt.pepperCreated) log.warn(`created ${rt.config.dataDir}/pepper.key (mode 0600): API key hashes depend on it; back it up with the database`)

  // The keys and one-time password never go through the logger: a terminal shows them, else a 0600 file holds them.
  const credentialsFile = join(rt.config.dataDir, INITIAL_CREDENTIALS_FILE)
  if (!(await isBootstrapped(rt.storage.db))) {
    const input = { orgName: INIT_DEFAULTS.org, domain: INIT_DEFAULTS.domain, ownerEmail: INIT_DEFAULTS.owner }
    handOverSecrets(bootstrapReport(await bootstrap(app.bootstrapDeps, input), input.ownerEmail), INITIAL_CREDENTIALS_FILE,
      { stdout: process.stdout, dataDir: rt.config.dataDir, notice: (m) => log.warn(m) })
  } else if (existsSync(credentialsFile)) {
    log.warn(`${credentialsFile} still holds the initial secrets: once they are stored safely, delete it`)
  }

  const stops: [string, () => Promise<void>][] = []
  if (role === 'api' || role === 'all') {
    const address = await app.http.listen({ host: rt.config.host, port: rt.config.port })
    log.info(`Sealpost API listening on ${address}`)
    for (const m of tlsNotices) log.warn(m)
    if (tls) {
      const stopWatching = watchCertificate(app.http.server as unknown as import('node:tls').Server, tls.files, {
        minVersion: rt.config.tls.minVersion,
        onReload: () => log.info('TLS certificate reloaded'),
        onError: (err) => log.error({ err }, 'TLS certificate reload failed; still serving the previous one'),
      })
      stops.push(['the TLS certificate watcher', async () => stopWatching()])
    }
  }
  // Prometheus on its own port when SEALPOST_METRICS_PORT is set (every role has metrics worth scraping).
  const metricsListener = await app.monitoring.startMetricsListener()
  if (metricsListener) log.info(`metrics on http://${rt.config.metrics.host}:${rt.config.metrics.port}/metrics`)
  if (role === 'worker' || role === 'all') {
    const workers = await app.startWorkers()
    stops.push(['delivery workers', () => workers.stop()])
    log.info('delivery workers started')
  }

  // Drain in order, but never past the deadline: a close() that hangs (a client holding a
  // request open, a stuck flush) must not keep an orchestrator's SIGKILL as the only way out.
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    const deadlineMs = rt.config.shutdownDeadlineMs
    let step = 'starting'
    log.info(`${signal}: draining (deadline ${deadlineMs} ms)`)
    const force = setTimeout(() => {
      log.error({ step, offloadInFlight: app.offload.stats().inFlight }, `shutdown deadline of ${deadlineMs} ms passed while ${step}; exiting without finishing it`)
      process.exit(1)
    }, deadlineMs)
    force.unref()
    try {
      for (const [name, stop] of stops) { step = `stopping ${name}`; await stop() }
      step = 'closing the app (HTTP connections, audit flush, key provider)'
      await app.close()
      step = 'closing storage'
      await rt.storage.close()
    } catch (err) {
      log.error({ err, step }, 'shutdown failed')
      process.exit(1)
    }
    log.info('drained; exiting')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

main().catch((err) => {
  console.error(err instanceof ConfigError || err instanceof PrivateModeError ? err.message : `Sealpost failed to start: ${err?.stack ?? err}`)
  process.exit(1)
})
