import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import { createHmac } from 'node:crypto'
import { safeEqual } from '../../core/constant-time.ts'
import { parse as parseForm } from 'node:querystring'
import type { Clock } from '../../core/clock.ts'
import type { AuditRecorder } from '../../core/audit-sink.ts'
import type { Db } from '../../storage/db.ts'
import type { OAuthUsers } from '../users-port.ts'
import { contentSecurityPolicy, newNonce, PAGE_HEADERS } from './html.ts'
import { consentPage, loginPage, messagePage, mfaPage } from './pages.ts'
import { planConsent, rememberConsent, rememberedScopes, saveGrant } from './consent.ts'

export interface InteractionDeps {
  getProvider(): Promise<Provider>
  users: OAuthUsers
  db: Db
  clock: Clock
  audit: AuditRecorder
  apiResource(): string
  orgName(orgId: string): Promise<string | null>
  /** Key for the per-interaction CSRF token. */
  csrfKey: string
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>
interface Pending { userId: string; attempts: number }

const MAX_MFA_ATTEMPTS = 5
const FORM_LIMIT = 8 * 1024
const UID = /^[A-Za-z0-9_-]{10,64}$/

/** One CSP nonce per response. */
const nonces = new WeakMap<FastifyReply, string>()
function nonceOf(reply: FastifyReply): string {
  let n = nonces.get(reply)
  if (!n) { n = newNonce(); nonces.set(reply, n) }
  return n
}

/**
 * The pages oidc-provider sends the browser to (`/oauth/interaction/:uid`):
 * login → second factor → consent. The interaction is bound to oidc-provider's
 * interaction cookie; each form also carries an HMAC of the interaction id (CSRF).
 */
export function interactionRoutes(d: InteractionDeps): FastifyPluginAsync {
  const csrfFor = (uid: string) => createHmac('sha256', d.csrfKey).update(`oauth-interaction:${uid}`).digest('base64url')
  const csrfOk = (uid: string, given: unknown) => typeof given === 'string' && safeEqual(csrfFor(uid), given)

  return async (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => {
      done(null, parseForm(body as string))
    })
    const pub = { config: { public: true } }

    /** Loads the interaction this browser is in; the uid in the path must be the cookie's. */
    async function load(req: FastifyRequest, reply: FastifyReply): Promise<{ provider: Provider; interaction: Interaction } | null> {
      const uid = (req.params as { uid: string }).uid
      const provider = await d.getProvider()
      let interaction: Interaction
      try { interaction = await provider.interactionDetails(req.raw, reply.raw) } catch {
        show(reply, 400, messagePage({ nonce: nonceOf(reply), title: 'Session expired', message: 'This sign-in request expired or was already completed. Start again from the app.' }))
        return null
      }
      if (!UID.test(uid) || interaction.uid !== uid) {
        show(reply, 400, messagePage({ nonce: nonceOf(reply), title: 'Session mismatch', message: 'This page does not belong to your current sign-in request.' }))
        return null
      }
      return { provider, interaction }
    }

    function show(reply: FastifyReply, status: number, html: string, redirectUri?: string): FastifyReply {
      return reply.code(status).headers(PAGE_HEADERS).header('content-security-policy', contentSecurityPolicy(nonceOf(reply), redirectUri))
        .type('text/html; charset=utf-8').send(html)
    }

    async function finish(req: FastifyRequest, reply: FastifyReply, provider: Provider, result: Record<string, unknown>, merge = false) {
      reply.hijack()
      await provider.interactionFinished(req.raw, reply.raw, result as any, { mergeWithLastSubmission: merge })
    }

    const pendingOf = (i: Interaction) => (i.result as { sealpostPendingMfa?: Pending } | undefined)?.sealpostPendingMfa
    const clientName = async (p: Provider, id: unknown) => { const c: any = await p.Client.find(String(id)); return String(c?.clientName ?? id) }
    const redirectOf = (i: Interaction) => (typeof i.params.redirect_uri === 'string' ? i.params.redirect_uri : undefined)


    app.get('/oauth/interaction/:uid', pub, async (req, reply) => {
      const l = await load(req, reply); if (!l) return reply
      const { provider, interaction: i } = l
      const csrf = csrfFor(i.uid)
      if (i.prompt.name === 'login') {
        if (pendingOf(i)) return show(reply, 200, mfaPage({ nonce: nonceOf(reply), uid: i.uid, csrf }))
        return show(reply, 200, loginPage({ nonce: nonceOf(reply), uid: i.uid, csrf, clientName: await clientName(provider, i.params.client_id) }))
      }
      if (i.prompt.name === 'consent') return consent(req, reply, provider, i, false)
      return show(reply, 400, messagePage({ nonce: nonceOf(reply), title: 'Unsupported step', message: 'This sign-in step is not supported.' }))
    })

    app.post('/oauth/interaction/:uid/login', pub, async (req, reply) => {
      const l = await load(req, reply); if (!l) return reply
      const { provider, interaction: i } = l
      const body = req.body as Record<string, unknown> | undefined
      if (!csrfOk(i.uid, body?.csrf) || i.prompt.name !== 'login') return show(reply, 403, messagePage({ nonce: nonceOf(reply), title: 'Request refused', message: 'The form was not sent from this sign-in page.' }))
      const email = typeof body?.email === 'string' ? body.email.slice(0, 320) : ''
      const password = typeof body?.password === 'string' ? body.password.slice(0, 1024) : ''
      const outcome = await d.users.checkPassword(email, password, req.clientIp)
      const again = (error: string) => show(reply, 200, loginPage({ nonce: nonceOf(reply), uid: i.uid, csrf: csrfFor(i.uid), clientName: String(i.params.client_id), error, email }))
      if (!outcome.ok) {
        return again(outcome.reason === 'throttled' ? 'Too many attempts. Wait a moment and try again.' : 'Wrong email or password.')
      }
      if (outcome.mfa === 'enrol') {
        return show(reply, 403, messagePage({ nonce: nonceOf(reply), title: 'Set up two-step verification first', message: 'Your role requires a second factor. Enrol one in the Sealpost dashboard, then try again.' }))
      }
      if (outcome.mfa === 'required') {
        await provider.interactionResult(req.raw, reply.raw, { sealpostPendingMfa: { userId: outcome.userId, attempts: 0 } }, { mergeWithLastSubmission: false })
        return reply.code(303).header('location', `/oauth/interaction/${i.uid}`).send()
      }
      d.audit.record({ orgId: null, actor: { type: 'user', id: outcome.userId }, action: 'oauth.login', ip: req.clientIp, requestId: req.id, outcome: 'success' })
      return finish(req, reply, provider, { login: { accountId: outcome.userId, amr: ['pwd'] } })
    })

    app.post('/oauth/interaction/:uid/mfa', pub, async (req, reply) => {
      const l = await load(req, reply); if (!l) return reply
      const { provider, interaction: i } = l
      const body = req.body as Record<string, unknown> | undefined
      const pending = pendingOf(i)
      if (!csrfOk(i.uid, body?.csrf) || i.prompt.name !== 'login' || !pending) return show(reply, 403, messagePage({ nonce: nonceOf(reply), title: 'Request refused', message: 'The form was not sent from this sign-in page.' }))
      const code = typeof body?.code === 'string' ? body.code.trim().slice(0, 64) : ''
      if (code && await d.users.verifySecondFactor(pending.userId, code, req.clientIp)) {
        d.audit.record({ orgId: null, actor: { type: 'user', id: pending.userId }, action: 'oauth.login', ip: req.clientIp, requestId: req.id, outcome: 'success', details: { mfa: true } })
        return finish(req, reply, provider, { login: { accountId: pending.userId, amr: ['pwd', 'otp'] } })
      }
      d.audit.record({ orgId: null, actor: { type: 'user', id: pending.userId }, action: 'oauth.mfa_failed', ip: req.clientIp, requestId: req.id, outcome: 'failure' })
      if (pending.attempts + 1 >= MAX_MFA_ATTEMPTS) {
        return finish(req, reply, provider, { error: 'access_denied', error_description: 'too many failed verification attempts' })
      }
      await provider.interactionResult(req.raw, reply.raw, { sealpostPendingMfa: { ...pending, attempts: pending.attempts + 1 } }, { mergeWithLastSubmission: false })
      return show(reply, 200, mfaPage({ nonce: nonceOf(reply), uid: i.uid, csrf: csrfFor(i.uid), error: 'That code is not valid.' }))
    })

    app.post('/oauth/interaction/:uid/consent', pub, async (req, reply) => {
      const l = await load(req, reply); if (!l) return reply
      const body = req.body as Record<string, unknown> | undefined
      if (!csrfOk(l.interaction.uid, body?.csrf) || l.interaction.prompt.name !== 'consent') return show(reply, 403, messagePage({ nonce: nonceOf(reply), title: 'Request refused', message: 'The form was not sent from this consent page.' }))
      if (body?.decision !== 'allow') return finish(req, reply, l.provider, { error: 'access_denied', error_description: 'End-User denied the request' })
      return consent(req, reply, l.provider, l.interaction, true)
    })

    app.post('/oauth/interaction/:uid/abort', pub, async (req, reply) => {
      const l = await load(req, reply); if (!l) return reply
      const body = req.body as Record<string, unknown> | undefined
      if (!csrfOk(l.interaction.uid, body?.csrf)) return show(reply, 403, messagePage({ nonce: nonceOf(reply), title: 'Request refused', message: 'The form was not sent from this sign-in page.' }))
      return finish(req, reply, l.provider, { error: 'access_denied', error_description: 'End-User aborted interaction' })
    })

    /**
     * Consent: the scopes granted are those requested, allowed for the client, and held
     * by the user in the client's organization. Remembered consent skips the page for
     * confidential web clients only: a native or public client's identity is not proven
     * by its redirect URI, so its user is asked every time.
     */
    async function consent(req: FastifyRequest, reply: FastifyReply, provider: Provider, i: Interaction, approved: boolean) {
      const client: any = await provider.Client.find(String(i.params.client_id))
      const userId = String(i.session?.accountId ?? '')
      const userScopes = client ? await d.users.effectiveScopes(userId, client.org_id) : null
      if (!client || userScopes === null) {
        return finish(req, reply, provider, { error: 'access_denied', error_description: 'the user is not a member of the organization that owns this client' })
      }
      const plan = planConsent(i, d.apiResource(), client.org_id, userScopes)
      const remembered = await rememberedScopes(d.db, plan.clientId, userId)
      const trusted = client.clientAuthMethod !== 'none' && client.applicationType === 'web'
      const coveredBefore = trusted && [...plan.grantable, ...plan.oidcScopes].every((s) => remembered.includes(s))
      if (approved || coveredBefore) {
        const grantId = await saveGrant(provider, i, plan, d.apiResource())
        await rememberConsent(d.db, d.clock, plan)
        d.audit.record({ orgId: plan.orgId, actor: { type: 'user', id: userId }, action: 'oauth.consent_granted', target: { type: 'oauth_client', id: plan.clientId }, details: { scopes: plan.grantable, remembered: !approved }, ip: req.clientIp, requestId: req.id })
        return finish(req, reply, provider, { consent: { grantId } }, true)
      }
      return show(reply, 200, consentPage({
        nonce: nonceOf(reply), uid: i.uid, csrf: csrfFor(i.uid), clientName: String(client.clientName ?? client.clientId),
        orgName: (await d.orgName(plan.orgId)) ?? plan.orgId, user: (await d.users.displayName(userId)) ?? 'you',
        granted: [...plan.grantable, ...plan.oidcScopes.filter((s) => s === 'offline_access')], withheld: plan.withheld,
        device: Boolean((i as any).deviceCode),
      }), redirectOf(i))
    }
  }
}
