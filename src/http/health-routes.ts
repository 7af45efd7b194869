import type { FastifyPluginAsync } from 'fastify'
import { sql } from 'kysely'
import type { Db } from '../storage/db.ts'

export function healthRoutes(deps: { db: Db }): FastifyPluginAsync {
  return async (app) => {
    // shedExempt: an orchestrator must see a busy process as alive and ready, not restart it.
    app.get('/healthz', { config: { public: true, shedExempt: true } }, async () => ({ status: 'ok' }))
    app.get('/readyz', { config: { public: true, shedExempt: true } }, async (_req, reply) => {
      try {
        await sql`select 1`.execute(deps.db)
        return { status: 'ready' }
      } catch {
        return reply.code(503).send({ error: { code: 'unavailable', message: 'Database is not reachable.' } })
      }
    })
  }
}
