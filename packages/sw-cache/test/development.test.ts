// The development/production split at run time: what decides it when no bundler folded it away.
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { broadcastUpdate, isSwCacheError, precache } from '../src/index.js'
import { installCaches } from './memory-cache-storage.js'
import { startOrigin } from './origin.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('without a bundler', () => {
  it('checks options unless NODE_ENV is "production"', () => {
    expect(() => broadcastUpdate({ channelName: '' })).toThrow('channelName must be a non-empty string')
    vi.stubEnv('NODE_ENV', 'production')
    expect(typeof broadcastUpdate({ channelName: '' })).toBe('function')
  })

  it('production messages name the code, the URL and the cache; details keep the status', async () => {
    installCaches()
    const origin = await startOrigin()
    try {
      vi.stubEnv('NODE_ENV', 'production')
      const failure = await precache('app-v1', [origin.url('/missing.js')]).catch((error: unknown) => error)
      expect(isSwCacheError(failure, 'precache-failed')).toBe(true)
      expect((failure as Error).message).toBe(
        `[@taurobot/sw-cache] ${origin.url('/missing.js')} in "app-v1": precache-failed`,
      )
      expect((failure as { details: unknown }).details).toEqual({
        url: origin.url('/missing.js'),
        cacheName: 'app-v1',
        status: 404,
      })
    } finally {
      await origin.close()
    }
  })

  it('runs the checks where there is no process at all, as in a service worker', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      globalName: 'swCache',
      // Neutral: nothing defines process.env.NODE_ENV, so the bundle reads it at run time.
      platform: 'neutral',
      write: false,
    })
    const code = result.outputFiles[0]?.text ?? ''
    expect(code).toContain('process.env.NODE_ENV')
    const realm: { swCache?: typeof import('../src/index.js') } = {}
    runInNewContext(code, realm)
    expect(() => realm.swCache?.deleteOldCaches({ keep: 'v2' as never })).toThrow(
      'keep must be an array of cache names, got "v2"',
    )
    expect(() => realm.swCache?.broadcastUpdate({ channelName: 'ok' })).not.toThrow()
  })
})
