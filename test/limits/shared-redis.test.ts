/**
 * Two real server processes (`node src/main.ts --role api`, real HTTP on port 0)
 * share one Redis: one API key's limit holds across both, so the sum of successes
 * equals the limit, not twice it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { REDIS_URL } from '../helpers/dialects.ts'
import { openRedis, redisReady } from '../../src/limits/redis.ts'
import { openStorage } from '../../src/storage/db.ts'
import { insertOrg } from '../../src/orgs/store.ts'
import { createKey } from '../../src/keys/service.ts'
import { newId } from '../../src/core/ids.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ALL_SCOPES } from '../../src/access/scopes.ts'

const LIMIT = 10

async function redisSkip(): Promise<string | false> {
  const c = openRedis(REDIS_URL)
  try { await redisReady(c); await c.quit(); return false } catch {
    c.disconnect()
    if (process.env.CI === 'true') throw new Error(`CI=true but Redis is unreachable at ${REDIS_URL}`)
    return `Redis unreachable at ${REDIS_URL}; skipped (mandatory when CI=true)`
  }
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['src/main.ts', '--role', 'api'], { cwd: join(import.meta.dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start:\n${out}`)) }, 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening on (https?:\/\/[^\s"]+)/.exec(out)
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }) }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)) })
  })
}

function get(base: string, path: string, key: string): Promise<number> {
  const url = new URL(path, base)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers: { authorization: `Bearer ${key}` }, rejectUnauthorized: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.end()
  })
}

test('two server processes share one key\'s rate limit through Redis', { skip: await redisSkip(), timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealpost-shared-rl-'))
  const pepper = randomBytes(32).toString('hex')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dataDir,
    SEALPOST_DATA_DIR: dataDir, SEALPOST_HOST: '127.0.0.1', SEALPOST_PORT: '0', SEALPOST_LOG_LEVEL: 'info',
    SEALPOST_PEPPER: pepper, SEALPOST_MASTER_KEY: randomBytes(32).toString('base64'), SEALPOST_HTTP_INSECURE_BEHIND_PROXY: 'true',
    REDIS_URL, SEALPOST_RATE_LIMIT_PER_KEY: String(LIMIT), SEALPOST_RATE_LIMIT_PER_ORG: '1000', SEALPOST_RATE_LIMIT_WINDOW_SEC: '300',
  }
  // Seed the shared database before either server starts (so neither bootstraps its own org).
  const storage = await openStorage({ sqliteFile: join(dataDir, 'sealpost.sqlite') })
  const orgId = newId('org')
  await insertOrg(storage.db, { id: orgId, name: 'Shared', created_at: Date.now() })
  const key = await createKey(storage.db, pepper, systemClock, { orgId, name: 'k', environment: 'live', scopes: ALL_SCOPES })
  await storage.close()

  const servers = await Promise.all([startServer(env), startServer(env)])
  t.after(async () => {
    await Promise.all(servers.map(({ child }) => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM') })))
    rmSync(dataDir, { recursive: true, force: true })
  })
  assert.notEqual(servers[0].url, servers[1].url)

  const statuses = await Promise.all(Array.from({ length: 3 * LIMIT }, (_, i) => get(servers[i % 2].url, '/v1/domains', key.secret)))
  const ok = statuses.filter((s) => s === 200).length
  const limited = statuses.filter((s) => s === 429).length
  console.log(`two processes: ${ok} successes, ${limited} refused with 429 (limit ${LIMIT})`)
  assert.equal(ok, LIMIT)
  assert.equal(limited, 2 * LIMIT)
  // Both processes refused some: the limit is shared, not enforced by one of them alone.
  const perServer = [0, 1].map((s) => statuses.filter((x, i) => i % 2 === s && x === 429).length)
  assert.ok(perServer.every((n) => n > 0), `429s per server: ${perServer}`)
})
