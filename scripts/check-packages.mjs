#!/usr/bin/env node
// publint and @arethetypeswrong/cli on every published package; exits non-zero on any problem.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
let failures = 0
for (const dir of readdirSync(join(root, 'packages'))) {
  const cwd = join(root, 'packages', dir)
  for (const [tool, args] of [
    ['publint', ['--strict', '--pack', 'npm']],
    // node16 covers both `import` and `require` resolution; node10's lack of `exports` is not a target.
    ['attw', ['--pack', '.', '--profile', 'node16']],
  ]) {
    console.log(`> ${tool} packages/${dir}`)
    const result = spawnSync(bin(tool), args, { cwd, stdio: 'inherit' })
    if (result.status !== 0) failures += 1
  }
}
if (failures > 0) {
  console.error(`${failures} package check(s) failed`)
  process.exit(1)
}
