/**
 * Polls `fn` every 20 ms until it returns something truthy, for work that happens after an answer
 * (alerts raised after a 202, mail queued in the background). Up to 10 s: a bound against hanging,
 * not a speed claim.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn()
    if (v) return v
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}
