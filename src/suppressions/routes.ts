import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../core/errors.ts'
import { parseAddress } from '../validation/address.ts'
import type { SuppressionService } from './service.ts'
import type { UnsubscribeTokens } from './unsubscribe-token.ts'

/** messages/ tells who a message was sent to: every recipient, in to, cc, bcc order (the links' recipient index). */
export interface RecipientLookup {
  recipientsOf(orgId: string, messageId: string): Promise<string[] | null>
}

const TokenParams = Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{10,200}\\.[A-Za-z0-9_-]{22}$' }) }, { additionalProperties: false })
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const page = (body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Unsubscribe</title><style>body{font:16px system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem}</style></head><body>${body}</body></html>`

export function suppressionRoutes(deps: { suppressions: SuppressionService; tokens: UnsubscribeTokens; recipients: RecipientLookup }): FastifyPluginAsync {
  return async (app) => {
    // RFC 8058 receivers POST `List-Unsubscribe=One-Click` as a form; the body itself carries nothing we need.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, body, done) => done(null, body))

    /**
     * Exactly the recipient the link was made for. A link from before per-recipient links names only
     * the message: it still works when the message had a single recipient, and never suppresses
     * several people at once (one of them could otherwise unsubscribe the others).
     */
    const unsubscribe = async (token: string) => {
      const target = deps.tokens.verify(token)
      const recipients = target && (await deps.recipients.recipientsOf(target.orgId, target.messageId))
      const index = target?.recipient ?? (recipients?.length === 1 ? 0 : -1)
      const address = recipients?.[index]
      if (!target || !address) throw new AppError('not_found', 'This unsubscribe link is not valid.')
      await deps.suppressions.add(target.orgId, address, 'unsubscribe', target.messageId)
    }

    // GET never changes state (link scanners follow links): it shows a button that POSTs.
    app.get('/v1/unsubscribe/:token', { config: { public: true, rateLimit: { points: 30, durationSec: 60 }, environment: 'any' }, schema: { params: TokenParams } }, async (req, reply) => {
      const { token } = req.params as { token: string }
      if (!deps.tokens.verify(token)) throw new AppError('not_found', 'This unsubscribe link is not valid.')
      return reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8')
        .send(page(`<h1>Unsubscribe</h1><p>Stop receiving these emails?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`))
    })

    app.post('/v1/unsubscribe/:token', { config: { public: true, rateLimit: { points: 30, durationSec: 60 }, environment: 'any' }, schema: { params: TokenParams } }, async (req, reply) => {
      await unsubscribe((req.params as { token: string }).token)
      if ((req.headers.accept ?? '').includes('text/html')) {
        return reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(page('<h1>Unsubscribed</h1><p>You will not receive these emails again.</p>'))
      }
      return { unsubscribed: true }
    })

    const Id = Type.Object({ id: Type.String({ pattern: '^sup_[0-9a-hjkmnp-tv-z]{26}$' }) }, { additionalProperties: false })
    const List = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Type.String({ pattern: '^sup_[0-9a-hjkmnp-tv-z]{26}$' })) }, { additionalProperties: false })
    const Add = Type.Object({ address: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false })
    const access = { scopes: ['suppressions:manage'], environment: 'sealed' as const }

    app.get('/v1/suppressions', { config: access, schema: { querystring: List } }, async (req) => {
      const q = req.query as { limit?: number; cursor?: string }
      return deps.suppressions.list(req.principal!, q.limit ?? 50, q.cursor)
    })
    app.post('/v1/suppressions', { config: access, schema: { body: Add } }, async (req, reply) => {
      const { address } = parseAddress((req.body as { address: string }).address, 'address')
      const r = await deps.suppressions.addManual(req.principal!, address)
      return reply.code(r.created ? 201 : 200).send({ address, suppressed: true })
    })
    app.delete('/v1/suppressions/:id', { config: access, schema: { params: Id } }, async (req, reply) => {
      await deps.suppressions.remove(req.principal!, (req.params as { id: string }).id)
      return reply.code(204).send()
    })
  }
}
