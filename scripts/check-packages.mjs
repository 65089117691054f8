#!/usr/bin/env node
// publint and @arethetypeswrong/cli on every published package; exits non-zero on any problem.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** True when some export of the package offers a `require` condition (a CommonJS build). */
function hasRequireCondition(exports) {
  if (typeof exports !== 'object' || exports === null) return false
  return Object.entries(exports).some(([key, value]) => key === 'require' || hasRequireCondition(value))
}

let failures = 0
for (const dir of readdirSync(join(root, 'packages'))) {
  const cwd = join(root, 'packages', dir)
  const { exports } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
  // node16 covers both `import` and `require` resolution; node10's lack of `exports` is not a target.
  // An ESM-only package (no `require` condition) is checked for `import` resolution only.
  const profile = hasRequireCondition(exports) ? 'node16' : 'esm-only'
  for (const [tool, args] of [
    ['publint', ['--strict', '--pack', 'npm']],
    ['attw', ['--pack', '.', '--profile', profile]],
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
