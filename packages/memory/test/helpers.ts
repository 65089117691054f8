import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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
