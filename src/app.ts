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
import { createApiKeyAuthenticator } from './keys/authenticator.ts'
import { healthRoutes } from './http/health-routes.ts'

export interface AppDeps {
  config: Config
  storage: Storage
  pepper: string
  clock?: Clock
  logStream?: NodeJS.WritableStream
}

export interface Sealpost {
  http: App
  deps: Required<Pick<AppDeps, 'config' | 'storage' | 'pepper' | 'clock'>>
  close(): Promise<void>
}

export async function buildApp(input: AppDeps): Promise<Sealpost> {
  const clock = input.clock ?? systemClock
  const { config, storage, pepper } = input
  const { db } = storage

  const keyAuth = createApiKeyAuthenticator({ db, pepper, clock })

  const routes: FastifyPluginAsync[] = [
    healthRoutes({ db }),
  ]

  const http = await buildHttp({
    logLevel: config.logLevel,
    logStream: input.logStream,
    bodyLimit: config.bodyLimit,
    trustedProxies: config.trustedProxies,
    steps: {
      authenticate: createAuthenticateHook([keyAuth]),
      authorize: createAuthorizeHook(),
    },
    routes,
  })

  return {
    http,
    deps: { config, storage, pepper, clock },
    async close() {
      await http.close()
    },
  }
}
