import { AppError } from '../core/errors.ts'
import type { Clock } from '../core/clock.ts'
import type { FieldCipher } from '../crypto/cipher.ts'
import type { Db } from '../storage/db.ts'
import type { OutboundGuard } from '../net/guard.ts'
import { newStandardSecret } from '../webhooks/signature.ts'
import { ACTIONS, RULE_NAMES, defaultPolicy, isRuleName, type Action, type RuleName, type RulePolicy } from './rules.ts'

export interface OrgPolicy {
  rules: Record<RuleName, RulePolicy>
  webhook: { url: string; secret: string } | null
  emails: string[]
}

/** What the API shows: never the webhook secret. */
export interface PolicyView {
  rules: Record<string, RulePolicy>
  webhook: { url: string } | null
  emails: string[]
}

export interface PolicyInput {
  rules?: Record<string, { actions: string[]; blockMinutes?: number; throttleMinutes?: number }>
  webhookUrl?: string | null
  /** A new signing secret for the current webhook URL (how a legacy secret moves to Standard Webhooks). */
  rotateWebhookSecret?: boolean
  emails?: string[]
}

const secretContext = (orgId: string) => ({ orgId, table: 'monitoring_policies', column: 'webhook_secret', rowId: orgId })
const CACHE_MS = 30_000

/**
 * Per-organization response policy. The webhook signing secret is generated
 * here, returned once when the webhook is set, and stored sealed by the FieldCipher.
 */
export function createPolicyStore(deps: { db: Db; cipher: FieldCipher; clock: Clock; outbound: Pick<OutboundGuard, 'check'> }) {
  const cache = new Map<string, { at: number; policy: OrgPolicy }>()

  async function get(orgId: string): Promise<OrgPolicy> {
    const now = deps.clock.now().getTime()
    const hit = cache.get(orgId)
    if (hit && now - hit.at < CACHE_MS) return hit.policy
    const row = await deps.db.selectFrom('monitoring_policies').selectAll().where('org_id', '=', orgId).executeTakeFirst()
    const overrides = row ? (JSON.parse(row.rules) as Partial<Record<RuleName, RulePolicy>>) : {}
    const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, { ...defaultPolicy(r), ...overrides[r] }])) as Record<RuleName, RulePolicy>
    const webhook = row?.webhook_url && row.webhook_secret
      ? { url: row.webhook_url, secret: await deps.cipher.decryptText(secretContext(orgId), row.webhook_secret) }
      : null
    const policy = { rules, webhook, emails: row ? (JSON.parse(row.emails) as string[]) : [] }
    cache.set(orgId, { at: now, policy })
    return policy
  }

  /** Returns the webhook URL to store (normalised by the guard's URL parser), or undefined/null as given. */
  async function validate(input: PolicyInput): Promise<string | null | undefined> {
    for (const [rule, p] of Object.entries(input.rules ?? {})) {
      if (!isRuleName(rule)) throw new AppError('invalid_request', `Unknown rule "${rule}".`, { details: { rules: RULE_NAMES } })
      for (const a of p.actions) if (!(ACTIONS as readonly string[]).includes(a)) throw new AppError('invalid_request', `Unknown action "${a}".`, { details: { actions: ACTIONS } })
    }
    if (!input.webhookUrl) return input.webhookUrl
    // The same guard as every send (net/guard.ts): scheme, credentials, port, host form, and every resolved address.
    let url: URL
    try { url = (await deps.outbound.check(input.webhookUrl)).url } catch (err) {
      throw new AppError('url_not_allowed', 'webhookUrl must be a public https:// URL without credentials.', { details: [{ path: '/webhookUrl', message: 'refused' }], cause: err })
    }
    url.hash = ''
    return url.href
  }

  return {
    get,
    /** The cached policy, even if stale (then refreshed in the background), or null: never waits. */
    peek(orgId: string): OrgPolicy | null {
      const hit = cache.get(orgId)
      if (!hit || deps.clock.now().getTime() - hit.at >= CACHE_MS) void get(orgId).catch(() => {})
      return hit?.policy ?? null
    },
    async view(orgId: string): Promise<PolicyView> {
      const p = await get(orgId)
      return { rules: p.rules, webhook: p.webhook ? { url: p.webhook.url } : null, emails: p.emails }
    },
    /** Returns the new webhook secret when a webhook URL was set or changed, or its secret rotated (shown once). */
    async set(orgId: string, input: PolicyInput, by: string): Promise<{ view: PolicyView; webhookSecret: string | null }> {
      const checkedUrl = await validate(input)
      const now = deps.clock.now().getTime()
      const current = await deps.db.selectFrom('monitoring_policies').selectAll().where('org_id', '=', orgId).executeTakeFirst()
      const rules: Record<string, RulePolicy> = current ? JSON.parse(current.rules) : {}
      for (const [rule, p] of Object.entries(input.rules ?? {})) {
        rules[rule] = { ...defaultPolicy(rule as RuleName), ...p, actions: [...new Set(p.actions)] as Action[] }
      }
      let webhookUrl = current?.webhook_url ?? null
      let sealed = current?.webhook_secret ?? null
      let webhookSecret: string | null = null
      let newSecret = false
      if (checkedUrl !== undefined && checkedUrl !== webhookUrl) {
        webhookUrl = checkedUrl
        newSecret = webhookUrl !== null
        if (!webhookUrl) sealed = null
      }
      if (input.rotateWebhookSecret) {
        if (!webhookUrl) throw new AppError('invalid_request', 'rotateWebhookSecret needs a webhook URL.', { details: [{ path: '/rotateWebhookSecret', message: 'no webhook URL is set' }] })
        newSecret = true
      }
      if (newSecret) {
        // A Standard Webhooks secret (webhooks/signature.ts); it replaces the old one at once.
        webhookSecret = newStandardSecret()
        sealed = await deps.cipher.encrypt(secretContext(orgId), webhookSecret)
      }
      const row = {
        org_id: orgId, rules: JSON.stringify(rules), webhook_url: webhookUrl, webhook_secret: sealed,
        emails: JSON.stringify(input.emails ?? (current ? JSON.parse(current.emails) : [])), updated_at: now, updated_by: by,
      }
      await deps.db.insertInto('monitoring_policies').values(row)
        .onConflict((oc) => oc.column('org_id').doUpdateSet({ rules: row.rules, webhook_url: row.webhook_url, webhook_secret: row.webhook_secret, emails: row.emails, updated_at: now, updated_by: by }))
        .execute()
      cache.delete(orgId)
      const view = await this.view(orgId)
      return { view, webhookSecret }
    },
  }
}

export type PolicyStore = ReturnType<typeof createPolicyStore>
