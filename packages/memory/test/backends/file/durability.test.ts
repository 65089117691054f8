import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { fileBackend, openMemory } from '../../../src/index.js'
import { straceUnavailable, tempDir } from '../../helpers.js'

const here = dirname(fileURLToPath(import.meta.url))
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

describe('compaction streams the snapshot', () => {
  it('the event loop runs many times while a 50 × 1000 message snapshot is written', async () => {
    const { dir, cleanup } = await tempDir()
    cleanups.push(cleanup)
    const path = join(dir, 'c.json')
    const memory = await openMemory({
      backend: fileBackend({ path, compactionMinBytes: 1 << 30 }),
      saveEvery: 1000,
      maxPending: 100_000,
      flushOnExit: false,
    })
    for (let i = 0; i < 50_000; i++) {
      await memory.add(i % 50, { role: 'user', content: `message ${i} with a few words of text in it` })
    }
    await memory.flush()
    let turns = 0
    let ticking = true
    const tick = () => {
      turns++
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    await memory.close()
    ticking = false
    const size = (await readFile(path)).length
    expect(size).toBeGreaterThan(4_000_000)
    // One loop turn per chunk of at most 4 KiB characters (up to 12 KiB of UTF-8) at the very least.
    expect(turns).toBeGreaterThan(size / (16 * 1024))
  }, 60_000)
})

const noTrace = straceUnavailable()

describe.skipIf(noTrace !== undefined)(
  `durability chain, from a system-call trace${noTrace ? ` (skipped: ${noTrace})` : ''}`,
  () => {
    it.each([
      ['O_DSYNC', 'close()', 'close', 'dsync'],
      ['O_DSYNC', 'a background compaction on the worker thread', 'worker', 'dsync'],
      ['fdatasync', 'close()', 'close', 'fdatasync'],
    ])(
      'journal: durable append (%s); snapshot (%s) and .bak: temp write, fsync(temp), rename, fsync(directory)',
      async (_, __, mode, journalSync) => {
        const { dir, cleanup } = await tempDir()
        cleanups.push(cleanup)
        const path = join(dir, 'c.json')
        const first = await openMemory({ path, flushOnExit: false })
        await first.add(1, { role: 'user', content: 'first' })
        await first.close()
        const trace = join(dir, 'trace.txt')
        execFileSync('strace', [
          '-f',
          '-qq',
          '-y',
          '-o',
          trace,
          '-e',
          'trace=openat,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,rename,renameat,renameat2',
          process.execPath,
          join(here, '..', '..', 'fixtures', 'durability-chain.mjs'),
          path,
          mode,
          journalSync,
        ])
        // Keep each call's first line (strace splits calls interrupted by other threads).
        const calls = (await readFile(trace, 'utf8'))
          .split('\n')
          .filter((line) => !line.includes('resumed>'))
          .map((line) => line.replace(/^\d+\s+/, ''))
        const find = (predicate: (line: string) => boolean, from = 0): number => {
          const index = calls.findIndex((line, i) => i >= from && predicate(line))
          expect(index, `trace has no matching call after line ${from}`).toBeGreaterThanOrEqual(0)
          return index
        }
        const isSync = (line: string, file: string) =>
          /^f(data)?sync\(\d+</.test(line) && line.includes(`<${file}>`)
        const isRename = (line: string, from: RegExp, to: string) =>
          /^rename/.test(line) && from.test(line) && line.includes(`"${to}"`)

        // The .bak of a small snapshot, copied before the first save: temp "<path>.bak.tmp-...",
        // write, fdatasync, rename, directory fsync.
        const bakRename = find((line) => isRename(line, /c\.json\.bak\.tmp-[^"]+"/, `${path}.bak`))
        const bakTemp = /"([^"]*c\.json\.bak\.tmp-[^"]+)"/.exec(calls[bakRename] ?? '')?.[1] as string
        const bakWrite = find((line) => /^p?writev?(64|v2)?\(/.test(line) && line.includes(`<${bakTemp}>`))
        const bakSync = find((line) => isSync(line, bakTemp), bakWrite)
        expect(bakSync).toBeLessThan(bakRename)
        find((line) => isSync(line, dir), bakRename)

        // The journal append that follows: one write on a descriptor opened with O_DSYNC, or one
        // write and one fdatasync.
        const journalWrite = find(
          (line) => /^p?writev?(64|v2)?\(/.test(line) && line.includes(`<${path}.journal>`),
          bakRename,
        )
        const journalFd = /^p?writev?(64|v2)?\((\d+)</.exec(calls[journalWrite] ?? '')?.[2]
        const journalOpen = calls
          .slice(0, journalWrite)
          .findLast(
            (line) =>
              /^openat\(/.test(line) &&
              line.includes(`"${path}.journal"`) &&
              line.endsWith(` = ${journalFd}<${path}.journal>`),
          )
        expect(journalOpen, 'the journal was opened before its write').toBeDefined()
        if (journalSync === 'dsync') {
          expect(journalOpen).toMatch(/O_DSYNC|O_SYNC/)
        } else {
          expect(journalOpen).not.toMatch(/O_DSYNC|O_SYNC/)
          find((line) => /^fdatasync\(/.test(line) && line.includes(`<${path}.journal>`), journalWrite)
        }

        // The snapshot at close: temp "<path>.tmp-...", write, fdatasync, rename over path, directory fsync.
        const snapshotRename = find((line) => isRename(line, /c\.json\.tmp-[^"]+"/, path), journalWrite)
        const snapshotTemp = /"([^"]*c\.json\.tmp-[^"]+)"/.exec(calls[snapshotRename] ?? '')?.[1] as string
        const snapshotWrite = find(
          (line) => /^p?writev?(64|v2)?\(/.test(line) && line.includes(`<${snapshotTemp}>`),
        )
        const snapshotSync = find((line) => isSync(line, snapshotTemp), snapshotWrite)
        expect(snapshotSync).toBeLessThan(snapshotRename)
        find((line) => isSync(line, dir), snapshotRename)

        // Then the journal restarts through the same chain.
        const journalRename = find(
          (line) => isRename(line, /c\.json\.journal\.tmp-[^"]+"/, `${path}.journal`),
          snapshotRename,
        )
        find((line) => isSync(line, dir), journalRename)
      },
    )
  },
)
