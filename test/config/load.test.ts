import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, ConfigError } from '../../src/config/load.ts'
import { renderEnvExample } from '../../src/config/env-example.ts'
import { variables } from '../../src/config/variables.ts'

test('.env.example documents every variable, exactly as generated from the schema', () => {
  const file = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  assert.equal(file, renderEnvExample(), 'run: npm run cli -- env-example > .env.example')
  for (const name of Object.keys(variables)) assert.match(file, new RegExp(`^# ${name}=`, 'm'))
})

test('defaults give a working embedded configuration', () => {
  const c = loadConfig({})
  assert.equal(c.port, 3000)
  assert.equal(c.databaseUrl, undefined)
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.delivery))
})

test('every bad variable is named in one error', () => {
  try {
    loadConfig({ SEALPOST_PORT: 'eighty', DATABASE_URL: 'mysql://x', SEALPOST_LOG_LEVEL: 'loud', SEALPOST_TYPO: '1' })
    assert.fail('expected ConfigError')
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    const msg = (e as Error).message
    for (const name of ['SEALPOST_PORT', 'DATABASE_URL', 'SEALPOST_LOG_LEVEL', 'SEALPOST_TYPO']) assert.match(msg, new RegExp(name))
  }
})

test('a secret value is never echoed in the error', () => {
  assert.throws(() => loadConfig({ SEALPOST_PEPPER: 'short-secret-value' }), (e: Error) => /SEALPOST_PEPPER/.test(e.message) && !e.message.includes('short-secret-value'))
})

test('a JSON config file is read, and the environment overrides it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cfg-'))
  const file = join(dir, 'sealpost.json')
  writeFileSync(file, JSON.stringify({ SEALPOST_PORT: 4000, SEALPOST_HOST: '0.0.0.0' }))
  const c = loadConfig({ SEALPOST_CONFIG_FILE: file, SEALPOST_HOST: '127.0.0.2' })
  assert.equal(c.port, 4000)
  assert.equal(c.host, '127.0.0.2')
})
