// `taurobot-memory compact` when the snapshot changes under it and the copy of that version cannot
// be kept: the command must fail, say the snapshot was not rewritten, and leave every file as it was.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openMemory } from '../../../src/index.js'
import {
  ensureBuilt,
  fillDisk,
  mountTmpfs,
  mountUnavailable,
  straceUnavailable,
  testScratch,
} from '../../helpers.js'

const { cleanups, fresh } = testScratch()
const unavailable = mountUnavailable() ?? straceUnavailable()

describe.skipIf(unavailable !== undefined)(
  `compact and a snapshot another program wrote meanwhile${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('the copy of that snapshot cannot be kept (disk full): exit 1, NOT rewritten, files intact', async () => {
      const { mountPoint, unmount } = await mountTmpfs(await fresh(), 1024)
      cleanups.push(unmount)
      const path = join(mountPoint, 'conversations.json')
      const first = await openMemory({ path, flushOnExit: false })
      await first.add('a', { role: 'user', content: 'in the snapshot' })
      await first.close()
      const second = await openMemory({ path, flushOnExit: false, saveEvery: 1 })
      await second.add('a', { role: 'user', content: 'in the journal' })
      await second.flush()
      await second.destroy()
      const journal = await readFile(`${path}.journal`)
      // The other program's version, ready on the same file system: putting it in place (a rename)
      // takes no space, and keeping a copy of it needs more than is left.
      const foreign = JSON.stringify({
        conversations: {
          py: [{ role: 'user', content: 'y'.repeat(300_000), timestamp: '2026-01-01T00:00:00' }],
        },
      })
      await writeFile(join(mountPoint, 'foreign.json'), foreign)
      const reserve = join(mountPoint, 'reserve')
      await writeFile(reserve, Buffer.alloc(64 * 1024))
      await fillDisk(mountPoint)
      await rm(reserve)

      // Each thread's first rename is held back 2 s: the `.bak`'s, before the rewrite compares the
      // snapshot with the one it read. The other program writes it then.
      const cli = ensureBuilt('cli.js')
      const child = spawn(
        'strace',
        [
          '-f',
          '-qq',
          '-o',
          '/dev/null',
          '-e',
          'trace=rename',
          '-e',
          'inject=rename:delay_enter=2000000:when=1',
          process.execPath,
          cli,
          'compact',
          path,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString()
      })
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString()
      })
      const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
      await expect
        .poll(async () => (await readdir(mountPoint)).some((name) => name.includes('.bak.tmp-')), {
          timeout: 20_000,
          interval: 10,
        })
        .toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await rename(join(mountPoint, 'foreign.json'), path)

      expect(await exit).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toContain(`the snapshot ${JSON.stringify(path)} was NOT rewritten`)
      expect(stderr).toMatch(/cannot keep a copy of the snapshot another program wrote at .*: ENOSPC/)
      expect(stderr).toContain('No message is lost')
      // Intact: the other program's snapshot, the journal, and nothing half-written beside them.
      expect(await readFile(path, 'utf8')).toBe(foreign)
      expect(await readFile(`${path}.journal`)).toEqual(journal)
      const left = (await readdir(mountPoint)).filter(
        (name) => name.includes('.tmp-') || name.includes('.foreign-'),
      )
      expect(left).toEqual([])
      expect(existsSync(`${path}.lock`)).toBe(false)
    }, 60_000)
  },
)
