/**
 * The whole database, as one Kysely type. Each domain owns its tables in its
 * own `table.ts`; this file only joins them.
 * Conventions: ids are prefixed text; timestamps are epoch ms (BIGINT);
 * booleans are 0/1 integers; JSON is text; ciphertext is text (versioned, base64url).
 */
import type { OrgTables } from '../orgs/table.ts'
import type { KeyTables } from '../keys/table.ts'
import type { OAuthTables } from '../oauth/table.ts'
import type { UserTables } from '../users/table.ts'
import type { DomainTables } from '../domains/table.ts'
import type { MessageTables } from '../messages/table.ts'
import type { SuppressionTables } from '../suppressions/table.ts'
import type { QueueTables } from '../queue/table.ts'
import type { CryptoTables } from '../crypto/table.ts'
import type { ContactTables } from '../contacts/table.ts'
import type { AuditTables } from '../audit/table.ts'
import type { MonitoringTables } from '../monitoring/table.ts'
import type { LimitTables } from '../limits/table.ts'
import type { WebhookTables } from '../webhooks/table.ts'
import type { SystemMailTables } from '../system-mail/table.ts'
import type { CanaryKeyTables } from '../keys/canary-table.ts'

export interface Database extends OrgTables, KeyTables, OAuthTables, UserTables, DomainTables, MessageTables, SuppressionTables, QueueTables, CryptoTables, ContactTables, AuditTables, MonitoringTables, LimitTables, WebhookTables, SystemMailTables, CanaryKeyTables {}
