import { Redis } from 'ioredis'

/**
 * The Redis connection limits/ shares across processes. Commands fail fast while
 * disconnected (no offline queue), so a Redis outage degrades rate limits to the
 * in-process insurance limiter instead of stalling every request.
 */
export function openRedis(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
  })
  // Connection errors are retried by ioredis; callers see failed commands, not a crash.
  client.on('error', () => {})
  return client
}

/** Waits until the connection is ready (commands sent before would fail with the offline queue off). */
export async function redisReady(client: Redis, timeoutMs = 3000): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error('Redis not ready')) }, timeoutMs)
    const onReady = () => { cleanup(); resolve() }
    const cleanup = () => { clearTimeout(timer); client.off('ready', onReady) }
    client.once('ready', onReady)
  })
}
