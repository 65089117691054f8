// Builds the package when dist/ is missing or older than the sources, so
// `vitest run --project espeak-ng-wasm` works on its own.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const packageDir = join(import.meta.dirname, '..')

function newest(dir: string): number {
  let time = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return time
}

export default function setup(): void {
  // The data is written last by the build, so its presence means a complete dist/.
  const built = join(packageDir, 'dist', 'espeak-ng-data', 'phontab')
  const sources = Math.max(
    newest(join(packageDir, 'src')),
    newest(join(packageDir, 'prebuilt')),
    statSync(join(packageDir, 'tsup.config.ts')).mtimeMs,
    statSync(join(packageDir, 'package.json')).mtimeMs,
  )
  if (existsSync(built) && statSync(join(packageDir, 'dist', 'index.js')).mtimeMs >= sources) return
  execFileSync('npm', ['run', 'build'], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] })
}
