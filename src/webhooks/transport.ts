/**
 * Outbound HTTP for webhooks, with the SSRF guard (app.ts plugs in the guarded sender
 * from monitoring/webhook.ts, shared with security alerts, so there is one guard).
 */
export interface WebhookTransport {
  /** Create time: throws when the URL's host resolves to a non-public address (unless private targets are allowed). */
  checkTarget(url: URL): Promise<unknown>
  /**
   * Send time: resolves again, refuses non-public addresses and connects only to the
   * addresses it checked; never follows redirects. Resolves with any answer's status.
   */
  post(req: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<{ status: number }>
}
