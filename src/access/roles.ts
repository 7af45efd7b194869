import { ALL_SCOPES, type Scope } from './scopes.ts'

/** Built-in roles. Custom roles (named scope sets per organization) live in the database. */
export const BUILTIN_ROLES = {
  owner: ALL_SCOPES,
  // Owners alone may transfer ownership or delete the organization (checked by org/ actions, not a scope).
  admin: ALL_SCOPES,
  developer: ['messages:send', 'messages:read', 'templates:read', 'templates:write', 'domains:manage', 'keys:manage', 'webhooks:manage', 'analytics:read', 'suppressions:manage', 'contacts:read'],
  marketer: ['messages:send', 'messages:read', 'contacts:read', 'contacts:write', 'contacts:pii', 'templates:read', 'templates:write', 'analytics:read', 'suppressions:manage'],
  analyst: ['messages:read', 'analytics:read', 'contacts:read', 'templates:read'],
  support: ['messages:read', 'contacts:read', 'templates:read', 'analytics:read'],
} as const satisfies Record<string, readonly Scope[]>

export type BuiltinRole = keyof typeof BUILTIN_ROLES
export const isBuiltinRole = (r: string): r is BuiltinRole => r in BUILTIN_ROLES
/** Roles whose members must have MFA. */
export const MFA_REQUIRED_ROLES: readonly string[] = ['owner', 'admin']
