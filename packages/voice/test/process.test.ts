// Whole-process behaviour, observed from outside: natural exit, silent stderr, signal handling.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { distDir, fixturesDir } from './helpers.js'

const entry = pathToFileURL(join(distDir, 'index.js')).href
const scratch = mkdtempSync(join(tmpdir(), 'voice-process-'))

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

describe('a script using the package', () => {
  it('exits by itself after its last task, with nothing on stderr and no listeners left behind', () => {
    // The pool's idle timeout is 30 s: finishing within the 20 s limit proves threads do not hold
    // the process open.
    const run = spawnSync(
      process.execPath,
      [join(fixturesDir, 'forgets-cleanup.mjs'), entry, join(fixturesDir, 'fault-engine.mjs')],
      { encoding: 'utf8', timeout: 20_000 },
    )
    expect(run.error).toBeUndefined()
    expect(run.signal).toBeNull()
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const report = JSON.parse(run.stdout) as {
      sizes: number[]
      outcomes: string[]
      before: Record<string, number>
      after: Record<string, number>
    }
    expect(report.sizes).toHaveLength(6)
    for (const size of report.sizes) expect(size).toBeGreaterThan(1000)
    expect(report.outcomes).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ])
    expect(report.after).toEqual(report.before)
    expect(report.after.SIGINT ?? 0).toBe(0)
    expect(report.after.SIGTERM ?? 0).toBe(0)
  })

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    'with handleSignals, %s flushes every accepted task, then re-raises (exit code %i)',
    async (signal, code) => {
      const outDir = join(scratch, signal)
      const child = spawn(process.execPath, [join(fixturesDir, 'handle-signals.mjs'), entry, outDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk
      })
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }))
      })
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk
          if (stdout.includes('ready')) resolve()
        })
        child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)))
      })
      child.kill(signal)
      const result = await exited
      // Killed by the re-raised signal: a shell reports 128 + signal number.
      expect(result.signal).toBe(signal)
      expect(128 + (signal === 'SIGTERM' ? 15 : 2)).toBe(code)
      expect(stderr).toBe('')
      const files = readdirSync(outDir).filter((name) => name.endsWith('.ogg'))
      expect(files.sort()).toEqual(['reply-0.ogg', 'reply-1.ogg', 'reply-2.ogg', 'reply-3.ogg'])
      for (const file of files) checkOggOpus(new Uint8Array(readFileSync(join(outDir, file))))
      expect(readdirSync(outDir).filter((name) => name.endsWith('.tmp'))).toEqual([])
    },
  )
})
