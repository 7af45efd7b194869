/** The scope catalogue shared by API keys, OAuth tokens and user roles. */
export const SCOPES = {
  'messages:send': 'Send email',
  'messages:read': 'Read messages, their status and events',
  'contacts:read': 'Read contacts (addresses masked)',
  'contacts:write': 'Create, update and erase contacts',
  'contacts:pii': 'See contact addresses and personal data unmasked',
  'templates:read': 'Read templates',
  'templates:write': 'Create and change templates',
  'domains:manage': 'Add sending domains and manage their DKIM keys',
  'suppressions:manage': 'Read and change the suppression list',
  'analytics:read': 'Read delivery statistics',
  'keys:manage': 'Create, rotate and revoke API keys',
  'webhooks:manage': 'Manage webhooks',
  'audit:read': 'Read and export the audit log',
  'alerts:manage': 'Read, acknowledge and resolve security alerts',
  'oauth:manage': 'Manage OAuth clients',
  'org:admin': 'Manage the organization: members, roles, policies',
} as const

export type Scope = keyof typeof SCOPES
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[]
export const isScope = (s: string): s is Scope => s in SCOPES
