import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { disable, enable } from '@libp2p/logger'
import { componentLogger, libp2pLogger } from '../../src/util/log.js'

/** The debug loggers: cspace's under `cspace:`, libp2p's no-ops unless DEBUG names them. */
describe('debug loggers', () => {
  test("a component's logger is cspace:NAME, silent unless enabled", () => {
    disable()
    assert.equal(componentLogger('quiet').enabled, false)
    enable('cspace:loud*')
    const loud = componentLogger('loud') as unknown as { enabled: boolean, namespace: string }
    assert.equal(loud.enabled, true)
    assert.equal(loud.namespace, 'cspace:loud')
    disable()
  })

  test("libp2p's loggers are no-ops when disabled, and their scopes are checked again", () => {
    disable()
    const silent = libp2pLogger.forComponent('libp2p:yamux')
    assert.equal(silent.enabled, false)
    assert.equal(silent.newScope('outbound:1').enabled, false)
    enable('libp2p:yamux:outbound:*')
    const parent = libp2pLogger.forComponent('libp2p:yamux')
    assert.equal(parent.enabled, false, 'the parent namespace is not named')
    const scoped = parent.newScope('outbound:7')
    assert.equal(scoped.enabled, true, 'a scope under it that DEBUG names logs')
    assert.equal(typeof scoped.error, 'function')
    enable('libp2p:dht:trace')
    const traced = libp2pLogger.forComponent('libp2p:dht').trace as unknown as { enabled: boolean }
    assert.equal(traced.enabled, true, 'a namespace whose trace alone is named gets a real logger')
    disable()
  })
})
