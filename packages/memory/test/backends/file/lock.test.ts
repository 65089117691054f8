import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { isMemoryError, openMemory } from '../../../src/index.js'
import { deadPid, ensureBuilt, testScratch } from '../../helpers.js'

const { cleanups, fresh, open } = testScratch()

const isLocked = (error: unknown) => isMemoryError(error, 'locked')

describe('file lock', () => {
  it('a lock naming this pid left by an earlier run (pid 1 after a container restart) is taken over', async () => {
    const path = join(await fresh(), 'c.json')
    const left = JSON.stringify({ pid: process.pid, hostname: hostname(), since: '2026-01-01T00:00:00.000Z' })
    await writeFile(`${path}.lock`, left)
    const memory = await open({ path })
    await memory.add('a', { role: 'user', content: 'x' })
    const lock = JSON.parse(await readFile(`${path}.lock`, 'utf8'))
    expect(lock.pid).toBe(process.pid)
    expect(lock.since).not.toBe('2026-01-01T00:00:00.000Z')
  })

  it('the same, when the lock records a different start of the process', async () => {
    const path = join(await fresh(), 'c.json')
    const left = { pid: process.pid, hostname: hostname(), since: 'then', start: 'another-boot/12' }
    await writeFile(`${path}.lock`, JSON.stringify(left))
    await open({ path })
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).since).not.toBe('then')
  })

  describe('a lock naming a live process', () => {
    // Stands for the lock's pid as it is now: a process of this machine that is alive.
    const alive = () => {
      const child = spawn('sleep', ['30'], { stdio: 'ignore' })
      cleanups.push(() => void child.kill())
      return child.pid as number
    }
    const runOf = (pid: number) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
      return `${boot}/${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`
    }

    it('that process started before this boot (its pid given to another one since): taken over', async () => {
      const path = join(await fresh(), 'c.json')
      const pid = alive()
      const ticks = runOf(pid).split('/')[1]
      await writeFile(
        `${path}.lock`,
        JSON.stringify({ pid, hostname: hostname(), since: 'then', run: `another-boot/${ticks}` }),
      )
      await open({ path })
      expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    })

    it('that process started at another time of this boot (the pid was reused): taken over', async () => {
      const path = join(await fresh(), 'c.json')
      const pid = alive()
      const [boot] = runOf(pid).split('/')
      await writeFile(
        `${path}.lock`,
        JSON.stringify({ pid, hostname: hostname(), since: 'then', run: `${boot}/1` }),
      )
      await open({ path })
      expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    })

    it('that very process, or a lock that does not say (an earlier release): locked, the lock left alone', async () => {
      const pid = alive()
      for (const left of [
        { pid, hostname: hostname(), since: 'then', run: runOf(pid) },
        { pid, hostname: hostname(), since: 'then' },
      ]) {
        const path = join(await fresh(), 'c.json')
        await writeFile(`${path}.lock`, JSON.stringify(left))
        await expect(openMemory({ path, flushOnExit: false })).rejects.toSatisfy(isLocked)
        expect(JSON.parse(await readFile(`${path}.lock`, 'utf8'))).toEqual(left)
      }
    })

    it('this store records its own run in the lock', async () => {
      const path = join(await fresh(), 'c.json')
      await open({ path })
      expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).run).toBe(runOf(process.pid))
    })
  })

  it('a lock held by another thread of this process is not taken over', async () => {
    const path = join(await fresh(), 'c.json')
    const index = pathToFileURL(ensureBuilt('index.js')).href
    const worker = new Worker(
      `import { workerData, parentPort } from 'node:worker_threads'
         const { openMemory } = await import(workerData.index)
         await openMemory({ path: workerData.path, flushOnExit: false })
         parentPort.postMessage('open')`,
      { eval: true, workerData: { index, path } },
    )
    cleanups.push(() => worker.terminate().then(() => undefined))
    await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy(isLocked)
    await expect(attempt).rejects.toThrow(new RegExp(`in use by process ${process.pid}`))
  })

  it('an empty lock file is never taken over: locked, naming the file to delete', async () => {
    const path = join(await fresh(), 'c.json')
    await writeFile(`${path}.lock`, '')
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy(isLocked)
    await expect(attempt).rejects.toThrow(`lock file ${JSON.stringify(`${path}.lock`)} that names no owner`)
    await expect(attempt).rejects.toThrow(/delete that file/)
    expect(await readFile(`${path}.lock`, 'utf8')).toBe('')
    expect(existsSync(`${path}.journal`)).toBe(false)
  })

  it('a lock from another host stays locked, naming the host', async () => {
    const path = join(await fresh(), 'c.json')
    await writeFile(`${path}.lock`, JSON.stringify({ pid: deadPid(), hostname: 'other-host', since: 'then' }))
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy(isLocked)
    await expect(attempt).rejects.toThrow(/on other-host .*close the store on other-host/)
  })

  it('a takeover claim left by a process that died is cleared, then the stale lock is taken over', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const stale = JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' })
    await writeFile(`${path}.lock`, stale)
    const claim = `${path}.lock.takeover-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`
    await writeFile(claim, JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' }))
    await open({ path })
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8')).pid).toBe(process.pid)
    expect((await readdir(dir)).sort()).toEqual(['c.json.journal', 'c.json.lock'])
  })

  it('a takeover claim of a live process is respected: locked, the stale lock is left to it', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const stale = JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' })
    await writeFile(`${path}.lock`, stale)
    const claim = `${path}.lock.takeover-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`
    // The parent of this process (the test runner) stands for a live process in the middle of a takeover.
    await writeFile(claim, JSON.stringify({ pid: process.ppid, hostname: hostname(), since: 'now' }))
    const attempt = openMemory({ path, flushOnExit: false })
    await expect(attempt).rejects.toSatisfy(isLocked)
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(stale)
  })

  it('removes temp files and takeover claims beside the lock whose owners are gone, keeps the others', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const dead = JSON.stringify({ pid: deadPid(), hostname: hostname(), since: 'then' })
    const live = JSON.stringify({ pid: process.ppid, hostname: hostname(), since: 'now' })
    await writeFile(`${path}.lock.tmp-1-dead`, dead)
    await writeFile(`${path}.lock.takeover-0123456789abcdef`, dead)
    await writeFile(`${path}.lock.tmp-2-live`, live)
    await open({ path })
    expect((await readdir(dir)).sort()).toEqual(['c.json.journal', 'c.json.lock', 'c.json.lock.tmp-2-live'])
  })
})
