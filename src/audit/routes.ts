import type { FastifyPluginAsync } from 'fastify'
import { Readable } from 'node:stream'
import { Type } from 'typebox'
import type { AuditService } from './service.ts'
import { RETENTION_PRESETS, MAX_RETENTION_DAYS } from './retention.ts'

const Filter = {
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_:.-]+$' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.]+$' })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
}
const ListQuery = Type.Object({
  ...Filter,
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
}, { additionalProperties: false })
const ExportQuery = Type.Object({
  ...Filter,
  timeFormat: Type.Optional(Type.Union([Type.Literal('iso'), Type.Literal('us')])),
}, { additionalProperties: false })
const RetentionBody = Type.Object({
  preset: Type.Optional(Type.Union(Object.keys(RETENTION_PRESETS).map((p) => Type.Literal(p)))),
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS })),
}, { additionalProperties: false })

export function auditRoutes(audit: AuditService): FastifyPluginAsync {
  return async (app) => {
    // The audit trail is the organization's security record: live credentials only.
    const read = { scopes: ['audit:read'], environment: 'live-only' as const }
    // Bulk reads of the trail: a fresh second factor for sessions.
    const bulkRead = { ...read, stepUp: true }
    app.get('/v1/audit-events', { config: bulkRead, schema: { querystring: ListQuery } }, async (req) =>
      audit.list(req.principal!, req.query as any))

    app.get('/v1/audit-events/export', { config: bulkRead, schema: { querystring: ExportQuery } }, async (req, reply) => {
      const lines = audit.exportLines(req.principal!, req.query as any, { ip: req.clientIp, requestId: String(req.id) })
      return reply.type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit-events.jsonl"')
        .send(Readable.from(lines))
    })

    app.get('/v1/audit/retention', { config: read }, async (req) => audit.retention.get(req.principal!.orgId))
    app.put('/v1/audit/retention', { config: { scopes: ['org:admin'], environment: 'live-only', stepUp: true }, schema: { body: RetentionBody } }, async (req) =>
      audit.setRetention(req.principal!, req.body as any, { ip: req.clientIp, requestId: String(req.id) }))
  }
}
