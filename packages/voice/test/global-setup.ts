// Builds the package when dist/ is missing or older than the sources, so `vitest run --project voice`
// works on its own; `npm test` builds first and this is then a no-op.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const packageDir = join(import.meta.dirname, '..')

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

export default function setup(): void {
  const built = join(packageDir, 'dist', 'worker.js')
  const sources = Math.max(
    newestSource(join(packageDir, 'src')),
    statSync(join(packageDir, 'tsup.config.ts')).mtimeMs,
    statSync(join(packageDir, 'package.json')).mtimeMs,
  )
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return
  const tsupPackage = createRequire(join(packageDir, 'package.json')).resolve('tsup/package.json')
  const cli = join(tsupPackage, '..', 'dist', 'cli-default.js')
  execFileSync(process.execPath, [cli], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] })
}
