import type { FastifyPluginAsync } from 'fastify'
import type { AccountService } from '../accounts.ts'
import type { EnrolmentService } from '../enrolment.ts'
import type { AuthService } from '../service.ts'
import type { RegistrationResponseJSON } from '../webauthn.ts'
import { metaOf, requireSession, sessionOf, setSession, type SessionHttp } from './context.ts'
import { IdParams, PasswordChangeBody, ProfileBody, RegistrationBody, TotpBody } from './schema.ts'

/**
 * /v1/users/me/*: the signed-in user's own account. Enrolment routes admit a
 * session that has not finished MFA (`any`): that is how an owner without a
 * second factor gets one; the service refuses a session owing an existing factor.
 */
export function meRoutes(deps: { http: SessionHttp; auth: AuthService; accounts: AccountService; enrolment: EnrolmentService }): FastifyPluginAsync {
  const { http, auth, accounts, enrolment } = deps
  const anySession = { config: { public: true, session: 'any' as const, environment: 'any' as const }, onRequest: requireSession(http, 'any') }
  const full = { config: { public: true, session: 'full' as const, environment: 'any' as const }, onRequest: requireSession(http, 'full') }
  // The password change is open to a session signed in with a one-time password (that is its purpose).
  const passwordChange = { config: { public: true, session: 'password' as const, environment: 'any' as const }, onRequest: requireSession(http, 'password') }
  const noStore = { 'cache-control': 'no-store' }
  return async (app) => {
    app.get('/v1/users/me', anySession, async (req) => (await auth.describe(sessionOf(req))).user)

    app.patch('/v1/users/me', { ...full, schema: { body: ProfileBody } }, async (req, reply) => {
      await accounts.updateProfile(sessionOf(req), req.body as { displayName: string })
      return reply.code(204).send()
    })

    app.post('/v1/users/me/password', { ...passwordChange, schema: { body: PasswordChangeBody } }, async (req, reply) => {
      const b = req.body as { currentPassword: string; newPassword: string }
      const r = await accounts.changePassword(sessionOf(req), b.currentPassword, b.newPassword, metaOf(req))
      return setSession(reply, r.token).send({ csrfToken: r.csrfToken })
    })

    app.get('/v1/users/me/mfa', anySession, async (req) => enrolment.listFactors(sessionOf(req).session.user_id))

    app.post('/v1/users/me/mfa/totp', anySession, async (req, reply) =>
      reply.headers(noStore).code(201).send(await enrolment.startTotp(sessionOf(req))))

    app.post('/v1/users/me/mfa/totp/confirm', { ...anySession, schema: { body: TotpBody } }, async (req, reply) => {
      const r = await enrolment.confirmTotp(sessionOf(req), (req.body as { code: string }).code, metaOf(req))
      return setSession(reply, r.token).send({ csrfToken: r.csrfToken, recoveryCodes: r.recoveryCodes })
    })

    app.delete('/v1/users/me/mfa/totp', full, async (req, reply) => {
      await enrolment.removeFactor(sessionOf(req), { totp: true }, metaOf(req))
      return reply.code(204).send()
    })

    app.post('/v1/users/me/passkeys/options', anySession, async (req, reply) =>
      reply.headers(noStore).send(await enrolment.passkeyOptions(sessionOf(req))))

    app.post('/v1/users/me/passkeys', { ...anySession, schema: { body: RegistrationBody } }, async (req, reply) => {
      const b = req.body as { name: string; credential: RegistrationResponseJSON }
      const r = await enrolment.addPasskey(sessionOf(req), b.credential, b.name, metaOf(req))
      return setSession(reply, r.token).code(201).send({ passkey: r.passkey, csrfToken: r.csrfToken, recoveryCodes: r.recoveryCodes })
    })

    app.delete('/v1/users/me/passkeys/:id', { ...full, schema: { params: IdParams } }, async (req, reply) => {
      await enrolment.removeFactor(sessionOf(req), { passkeyId: (req.params as { id: string }).id }, metaOf(req))
      return reply.code(204).send()
    })

    app.post('/v1/users/me/recovery-codes', full, async (req, reply) =>
      reply.headers(noStore).send({ recoveryCodes: await enrolment.regenerateRecoveryCodes(sessionOf(req), metaOf(req)) }))
  }
}
