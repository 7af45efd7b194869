import type { FastifyPluginAsync } from 'fastify'
import type { AccessConditions } from '../../core/principal.ts'
import { isAppError } from '../../core/errors.ts'
import { readSessionToken } from '../cookie.ts'
import { checkOrigin } from '../csrf.ts'
import type { InvitationService } from '../invitations.ts'
import type { MemberService } from '../members.ts'
import type { AuthService } from '../service.ts'
import { loadSession, metaOf, setSession, type SessionHttp } from './context.ts'
import { AcceptBody, CreateRoleBody, IdParams, InviteBody, PolicyBody, RoleBody, UpdateRoleBody, UserIdParams } from './schema.ts'
import { LOGIN_RATE_LIMIT } from './auth-routes.ts'

/**
 * /v1/members, /v1/invitations, /v1/roles and /v1/auth/policy: organization
 * administration (`org:admin`). Changes need a fresh step-up for session users
 * (declared per route: `adminStepUp`) and are audited. Organization administration is live-only.
 */
export function memberRoutes(deps: { http: SessionHttp; members: MemberService; invitations: InvitationService; auth: AuthService }): FastifyPluginAsync {
  const { http, members, invitations, auth } = deps
  const admin = { scopes: ['org:admin'], environment: 'live-only' as const }
  // Granting, removing or reshaping access, and the MFA policy: a fresh second factor for sessions.
  const adminStepUp = { ...admin, stepUp: true }
  const userIdOf = (p: unknown) => (p as { userId: string }).userId
  const idOf = (p: unknown) => (p as { id: string }).id
  return async (app) => {
    app.get('/v1/members', { config: admin }, async (req) => ({ data: await members.members(req.principal!) }))

    app.patch('/v1/members/:userId', { config: adminStepUp, schema: { params: UserIdParams, body: RoleBody } }, async (req) =>
      members.changeRole(req.principal!, userIdOf(req.params), (req.body as { role: string }).role, metaOf(req)))

    app.delete('/v1/members/:userId', { config: adminStepUp, schema: { params: UserIdParams } }, async (req, reply) => {
      await members.removeMember(req.principal!, userIdOf(req.params), metaOf(req))
      return reply.code(204).send()
    })

    app.get('/v1/invitations', { config: admin }, async (req) => ({ data: await invitations.pending(req.principal!) }))

    app.post('/v1/invitations', { config: adminStepUp, schema: { body: InviteBody } }, async (req, reply) =>
      reply.code(201).send(await invitations.invite(req.principal!, req.body as { email: string; role: string }, metaOf(req))))

    app.delete('/v1/invitations/:id', { config: admin, schema: { params: IdParams } }, async (req, reply) => {
      await invitations.revoke(req.principal!, idOf(req.params), metaOf(req))
      return reply.code(204).send()
    })

    // Public: the emailed token is the credential. An existing user must also be signed in as the invitee.
    app.post('/v1/invitations/accept', { config: { public: true, rateLimit: LOGIN_RATE_LIMIT, environment: 'any' }, schema: { body: AcceptBody } }, async (req, reply) => {
      checkOrigin(req, http.allowedOrigins)
      const body = req.body as { token: string; password?: string; displayName?: string }
      // A stale cookie, or one sent without its CSRF token, counts as not signed in (never as the user).
      const signedIn = readSessionToken(req.headers.cookie) ? await loadSession(http, req).catch((e) => { if (isAppError(e)) return null; throw e }) : null
      const r = await invitations.accept(body.token, body, signedIn, metaOf(req))
      const result = { orgId: r.orgId, role: r.role, created: r.created }
      if (r.created && body.password) {
        // The new account signs in at once (to set up MFA if the role requires it).
        const s = await auth.login({ email: r.email, password: body.password, orgId: r.orgId }, metaOf(req), null)
        return setSession(reply, s.token).code(201).send({ ...result, next: s.next, csrfToken: s.csrfToken })
      }
      if (signedIn) {
        // Joining an organization is a privilege change: the session moves there with a new token.
        const s = await auth.switchOrg(signedIn, r.orgId, metaOf(req))
        return setSession(reply, s.token).send({ ...result, next: s.next, csrfToken: s.csrfToken })
      }
      return result
    })

    app.get('/v1/roles', { config: admin }, async (req) => ({ data: await members.roles(req.principal!) }))

    app.post('/v1/roles', { config: adminStepUp, schema: { body: CreateRoleBody } }, async (req, reply) =>
      reply.code(201).send(await members.createRole(req.principal!, req.body as { name: string; description?: string; scopes: string[]; conditions?: AccessConditions | null }, metaOf(req))))

    app.patch('/v1/roles/:id', { config: adminStepUp, schema: { params: IdParams, body: UpdateRoleBody } }, async (req) =>
      members.updateRole(req.principal!, idOf(req.params), req.body as { name?: string; scopes?: string[]; conditions?: AccessConditions | null }, metaOf(req)))

    app.delete('/v1/roles/:id', { config: adminStepUp, schema: { params: IdParams } }, async (req, reply) => {
      await members.deleteRole(req.principal!, idOf(req.params), metaOf(req))
      return reply.code(204).send()
    })

    app.get('/v1/auth/policy', { config: admin }, async (req) => members.policy(req.principal!))

    app.put('/v1/auth/policy', { config: adminStepUp, schema: { body: PolicyBody } }, async (req) =>
      members.setPolicy(req.principal!, req.body as { requireMfa: boolean }, metaOf(req)))
  }
}
