import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { distIndexUrl, fixturesDir } from './helpers.js'

describe('process hygiene', () => {
  it('adds no process listeners, writes nothing to stderr over 50 calls, and lets the process exit', () => {
    // A child of its own: the test runner's process has listeners and output of its own. The timeout
    // only catches an event loop kept alive; a normal run takes well under a second.
    const child = spawnSync(process.execPath, [join(fixturesDir, 'quiet.mjs'), distIndexUrl], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(child.error).toBeUndefined()
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    const report = JSON.parse(child.stdout) as {
      before: number[]
      afterLoad: number[]
      afterCalls: number[]
      failures: number
    }
    expect(report.afterLoad).toEqual(report.before)
    expect(report.afterCalls).toEqual(report.before)
    // The five unknown voices fail; the stopped syntheses do not.
    expect(report.failures).toBe(5)
  })
})
