import { test } from 'node:test'
import assert from 'node:assert/strict'
import { withOutcomeMonitoring } from '../../src/monitoring/outcome-source.ts'
import type { DeliveryOutcome, MessageSource } from '../../src/delivery/contract.ts'

test('delivery outcomes reach monitoring after the source has written them', async () => {
  const order: string[] = []
  const source: MessageSource = {
    loadForDelivery: async () => null,
    prepareOutcome: async () => async () => { order.push('write') },
    recordOutcome: async () => { order.push('record') },
  }
  const seen: [string, DeliveryOutcome][] = []
  const wrapped = withOutcomeMonitoring(source, { recordDeliveryOutcome: (orgId, o) => { order.push('monitor'); seen.push([orgId, o]) } })
  const bounce: DeliveryOutcome = { kind: 'failed', recipients: ['a@example.com'], reason: '550', bounce: 'hard' }
  const write = await wrapped.prepareOutcome('org_a', 'msg_a', bounce, 1)
  assert.deepEqual(order, [], 'nothing counted before the write runs')
  await write({} as any)
  await wrapped.recordOutcome('org_a', 'msg_b', bounce, 2)
  assert.deepEqual(order, ['write', 'monitor', 'record', 'monitor'])
  assert.deepEqual(seen.map(([o]) => o), ['org_a', 'org_a'])
  await assert.doesNotReject(wrapped.loadForDelivery('org_a', 'msg_a'))
})
