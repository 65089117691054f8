import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, rm, rmdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { type Memory, type MemoryOptions, openMemory } from '../src/index.js'

/** True under CI, where a missing service fails a test instead of skipping it. */
export const IN_CI = process.env.CI === 'true'
/** The package's root folder. */
export const packageDir = join(import.meta.dirname, '..')
/** A file of test/fixtures. */
export function fixture(name: string): string {
  return join(packageDir, 'test', 'fixtures', name)
}

/** A fresh directory under the OS temp dir; removed by `cleanup()`. */
export async function tempDir(
  prefix = 'taurobot-memory-',
): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * Builds the package when a built file is missing, so tests that run the built package (child
 * processes, the CLI) also work on their own. A stale dist/ is not rebuilt here: other test files
 * may be running from it; `npm test` builds first.
 */
export function ensureBuilt(file: string): string {
  const path = join(packageDir, 'dist', file)
  if (existsSync(path)) return path
  const tsup = createRequire(join(packageDir, 'package.json')).resolve('tsup/package.json')
  execFileSync(process.execPath, [join(tsup, '..', 'dist', 'cli-default.js')], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (!existsSync(path)) throw new Error(`building the package did not produce dist/${file}`)
  return path
}

/** Why strace cannot run here (it traces system calls and injects delays), or `undefined` when it can. */
export function straceUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'strace needs Linux'
  const probe = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true'])
  return probe.status === 0 ? undefined : 'strace is not installed or not permitted here'
}

/**
 * The command prefix that runs a program under strace with each system call that touches `file`
 * held back before it runs: `delays` maps system call names (comma-separated) to milliseconds.
 */
export function straceDelay(file: string, delays: Record<string, number>): string[] {
  const calls = Object.keys(delays).join(',')
  const injections = Object.entries(delays).flatMap(([names, ms]) => [
    '-e',
    `inject=${names}:delay_enter=${ms * 1000}`,
  ])
  return ['strace', '-f', '-qq', '-o', '/dev/null', '-P', file, '-e', `trace=${calls}`, ...injections]
}

/** The pid of a process that has certainly exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

/**
 * Why a small tmpfs cannot be mounted here (real ENOSPC and EROFS need a file system the tests can
 * fill or make read-only; mounting needs CAP_SYS_ADMIN, root in CI), or `undefined` when it can.
 */
export function mountUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux'
  const probe = spawnSync('sh', [
    '-c',
    'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r',
  ])
  return probe.status === 0 ? undefined : 'cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)'
}

/** Mounts a tmpfs of `sizeKiB` at `<dir>/mnt`; `unmount()` detaches and removes it. */
export async function mountTmpfs(
  dir: string,
  sizeKiB: number,
): Promise<{ mountPoint: string; unmount(): Promise<void> }> {
  const mountPoint = join(dir, 'mnt')
  await mkdir(mountPoint)
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', mountPoint])
  return {
    mountPoint,
    async unmount() {
      execFileSync('umount', ['-l', mountPoint])
      await rmdir(mountPoint).catch(() => undefined)
    },
  }
}

/** Fills the file system holding `dir` with one file until ENOSPC; returns that file's path. */
export async function fillDisk(dir: string): Promise<string> {
  const filler = join(dir, 'filler')
  const chunk = Buffer.alloc(4096, 1)
  const handle = await open(filler, 'w')
  try {
    for (;;) await handle.write(chunk)
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error
  } finally {
    await handle.close()
  }
  return filler
}

/**
 * Per-test scratch space for a test file: `fresh()` makes a temp directory, `open()` a store
 * (exit hooks off), and after each test the stores are destroyed, then `cleanups` run, last first
 * (a tmpfs is unmounted before the directory it sits in is removed).
 */
export function testScratch(): {
  cleanups: Array<() => Promise<void> | void>
  stores: Memory[]
  fresh(): Promise<string>
  open(options: MemoryOptions): Promise<Memory>
} {
  const cleanups: Array<() => Promise<void> | void> = []
  const stores: Memory[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.destroy().catch(() => undefined)
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return {
    cleanups,
    stores,
    async fresh() {
      const { dir, cleanup } = await tempDir()
      cleanups.push(cleanup)
      return dir
    },
    async open(options) {
      const memory = await openMemory({ flushOnExit: false, ...options })
      stores.push(memory)
      return memory
    },
  }
}

/**
 * A file backend's journal as text, without the zero bytes it prepares ahead for records to come
 * (an open store's journal ends in them; a closed one's does not).
 */
export async function journalText(path: string): Promise<string> {
  const data = await readFile(path)
  let end = data.length
  while (end > 0 && data[end - 1] === 0) end--
  return data.toString('utf8', 0, end)
}
