import type { FastifyPluginAsync } from 'fastify'
import type { Users } from './module.ts'
import { authRoutes } from './routes/auth-routes.ts'
import { meRoutes } from './routes/me-routes.ts'
import { memberRoutes } from './routes/member-routes.ts'
import { sessionRoutes } from './routes/session-routes.ts'

/** Every users/ route: /v1/auth/*, /v1/users/me/*, /v1/sessions, /v1/members, /v1/invitations, /v1/roles. */
export function userRoutes(users: Users): FastifyPluginAsync {
  const http = { gate: users.gate, sessions: users.sessions, allowedOrigins: users.allowedOrigins }
  return async (app) => {
    await app.register(authRoutes({ http, auth: users.auth, accounts: users.accounts }))
    await app.register(meRoutes({ http, auth: users.auth, accounts: users.accounts, enrolment: users.enrolment }))
    await app.register(sessionRoutes({ http, sessions: users.sessions, auth: users.auth }))
    await app.register(memberRoutes({ http, members: users.members, invitations: users.invitations, auth: users.auth }))
  }
}
