import type { FastifyPluginAsync } from 'fastify'
import { clearedSessionCookie, readSessionToken } from '../cookie.ts'
import { checkOrigin } from '../csrf.ts'
import type { AccountService } from '../accounts.ts'
import type { AuthService, SignedIn } from '../service.ts'
import type { AuthenticationResponseJSON } from '../webauthn.ts'
import { metaOf, requireSession, sessionOf, setSession, type SessionHttp } from './context.ts'
import { AssertionBody, LoginBody, OrgSwitchBody, RecoveryBody, SignedInView, TokenBody, TotpBody } from './schema.ts'

/** Sign-in is public but throttled per IP and account inside the service; this bucket is the outer fence. */
export const LOGIN_RATE_LIMIT = { points: 60, durationSec: 60 }

const view = (s: SignedIn) => ({ next: s.next, methods: s.methods, orgId: s.orgId, csrfToken: s.csrfToken, ...(s.recoveryCodesLeft !== undefined ? { recoveryCodesLeft: s.recoveryCodesLeft } : {}) })

/** /v1/auth/*: sign-in, second factor (also the step-up), org switch, sign-out, email verification. */
export function authRoutes(deps: { http: SessionHttp; auth: AuthService; accounts: AccountService }): FastifyPluginAsync {
  const { http, auth, accounts } = deps
  const anySession = { config: { public: true, session: 'any' as const, environment: 'any' as const }, onRequest: requireSession(http, 'any') }
  return async (app) => {
    app.post('/v1/auth/login', {
      config: { public: true, rateLimit: LOGIN_RATE_LIMIT, environment: 'any' as const },
      schema: { body: LoginBody, response: { 200: SignedInView } },
    }, async (req, reply) => {
      // Login CSRF: a cross-site page must not sign the victim into the attacker's account.
      checkOrigin(req, http.allowedOrigins)
      const body = req.body as { email: string; password: string; orgId?: string }
      const r = await auth.login(body, metaOf(req), readSessionToken(req.headers.cookie))
      return setSession(reply, r.token).send(view(r))
    })

    app.get('/v1/auth/session', anySession, async (req, reply) => reply.header('cache-control', 'no-store').send(await auth.describe(sessionOf(req))))

    app.post('/v1/auth/mfa/totp', { ...anySession, schema: { body: TotpBody, response: { 200: SignedInView } } }, async (req, reply) => {
      const r = await auth.verifySecondFactor(sessionOf(req), { totp: (req.body as { code: string }).code }, metaOf(req))
      return setSession(reply, r.token).send(view(r))
    })

    app.post('/v1/auth/mfa/recovery', { ...anySession, schema: { body: RecoveryBody, response: { 200: SignedInView } } }, async (req, reply) => {
      const r = await auth.verifySecondFactor(sessionOf(req), { recoveryCode: (req.body as { code: string }).code }, metaOf(req))
      return setSession(reply, r.token).send(view(r))
    })

    app.post('/v1/auth/mfa/webauthn/options', anySession, async (req, reply) =>
      reply.header('cache-control', 'no-store').send(await auth.webauthnOptions(sessionOf(req))))

    app.post('/v1/auth/mfa/webauthn', { ...anySession, schema: { body: AssertionBody, response: { 200: SignedInView } } }, async (req, reply) => {
      const r = await auth.verifySecondFactor(sessionOf(req), { webauthn: req.body as AuthenticationResponseJSON }, metaOf(req))
      return setSession(reply, r.token).send(view(r))
    })

    app.post('/v1/auth/session/org', { ...anySession, schema: { body: OrgSwitchBody, response: { 200: SignedInView } } }, async (req, reply) => {
      const r = await auth.switchOrg(sessionOf(req), (req.body as { orgId: string }).orgId, metaOf(req))
      return setSession(reply, r.token).send(view(r))
    })

    app.post('/v1/auth/logout', anySession, async (req, reply) => {
      await auth.logout(sessionOf(req), metaOf(req))
      return reply.header('set-cookie', clearedSessionCookie()).code(204).send()
    })

    app.post('/v1/auth/verify-email/send', anySession, async (req, reply) => {
      await accounts.sendVerificationEmail(sessionOf(req), metaOf(req))
      return reply.code(202).send({ status: 'sent' })
    })

    app.post('/v1/auth/verify-email', { config: { public: true, rateLimit: LOGIN_RATE_LIMIT, environment: 'any' }, schema: { body: TokenBody } }, async (req) => {
      checkOrigin(req, http.allowedOrigins)
      await accounts.verifyEmail((req.body as { token: string }).token, metaOf(req))
      return { status: 'verified' }
    })
  }
}
