import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sessionCommandEnv } from '../../src/daemon/exposes.js'

test('an --exec command gets the caller and the daemon\'s environment, but not the key\'s passphrase', () => {
  const daemonEnv = { PATH: '/usr/bin', CSPACE_HOME: '/home/bob/.cspace', CSPACE_PASSPHRASE: 'correct horse battery staple', CSPACE_CALLER_NAME: 'forged' }
  const env = sessionCommandEnv(daemonEnv, {
    service: 'whoami',
    caller: { peerId: '12D3KooWAlice', userId: 'cs1alice', fingerprint: 'ab:cd', contactName: undefined }
  })
  assert.equal(env.CSPACE_PASSPHRASE, undefined)
  assert.equal(env.PATH, '/usr/bin')
  assert.equal(env.CSPACE_HOME, '/home/bob/.cspace')
  assert.deepEqual(
    [env.CSPACE_SERVICE, env.CSPACE_CALLER_ID, env.CSPACE_CALLER_PEER_ID, env.CSPACE_CALLER_NAME, env.CSPACE_CALLER_FINGERPRINT],
    ['whoami', 'cs1alice', '12D3KooWAlice', '', 'ab:cd'],
    'the caller as the daemon knows them; a stranger has no name, whatever the daemon\'s own environment said'
  )
  assert.equal(daemonEnv.CSPACE_PASSPHRASE, 'correct horse battery staple', 'the daemon\'s own environment is left alone')
})
