import type { FastifyPluginAsync } from 'fastify'
import type { ContactService } from './service.ts'
import { ContactParams, CreateContactBody, ListContactsQuery, UpdateContactBody, type CreateContactInput, type ListContactsInput, type UpdateContactInput } from './schema.ts'

export function contactRoutes(contacts: ContactService): FastifyPluginAsync {
  return async (app) => {
    const idOf = (req: { params: unknown }) => (req.params as { id: string }).id

    app.post('/v1/contacts', { config: { scopes: ['contacts:write'], environment: 'sealed' }, schema: { body: CreateContactBody } }, async (req, reply) =>
      reply.code(201).send(await contacts.create(req.principal!, req.body as CreateContactInput)))

    app.get('/v1/contacts', { config: { scopes: ['contacts:read'], environment: 'sealed', stepUp: true }, schema: { querystring: ListContactsQuery } }, async (req) =>
      contacts.list(req.principal!, req.query as ListContactsInput))

    app.get('/v1/contacts/:id', { config: { scopes: ['contacts:read'], environment: 'sealed' }, schema: { params: ContactParams } }, async (req) =>
      contacts.get(req.principal!, idOf(req)))

    app.patch('/v1/contacts/:id', { config: { scopes: ['contacts:write'], environment: 'sealed' }, schema: { params: ContactParams, body: UpdateContactBody } }, async (req) =>
      contacts.update(req.principal!, idOf(req), req.body as UpdateContactInput))

    app.delete('/v1/contacts/:id', { config: { scopes: ['contacts:write'], environment: 'sealed' }, schema: { params: ContactParams } }, async (req, reply) => {
      await contacts.erase(req.principal!, idOf(req))
      req.auditDetails = { contact_id: idOf(req), erasure: 'crypto-shredded' }
      return reply.code(204).send()
    })

    app.get('/v1/contacts/:id/export', { config: { scopes: ['contacts:read', 'contacts:pii'], environment: 'sealed', stepUp: true }, schema: { params: ContactParams } }, async (req, reply) => {
      req.auditDetails = { contact_id: idOf(req), export: true }
      return reply.header('content-disposition', `attachment; filename="${idOf(req)}.json"`).send(await contacts.exportContact(req.principal!, idOf(req)))
    })
  }
}
