/**
 * The whole database, as one Kysely type. Each domain owns its tables in its
 * own `table.ts`; this file only joins them.
 * Conventions: ids are prefixed text; timestamps are epoch ms (BIGINT);
 * booleans are 0/1 integers; JSON is text; ciphertext is text (versioned, base64url).
 */
import type { OrgTables } from '../orgs/table.ts'
import type { KeyTables } from '../keys/table.ts'

export interface Database extends OrgTables, KeyTables {}
