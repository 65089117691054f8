#!/usr/bin/env node
// The two quick-start commands (`npm start`, `npm test`), `npm run bench` and `npm run build` land here. They must
// work on a machine that has only Node and npm: pnpm is fetched through npx at the version pinned in
// package.json, dependencies are installed from the lockfile when missing, and the packages are
// built before anything that uses them runs.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmSpec = rootPackage.packageManager // e.g. "pnpm@10.34.8"

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options })
  if (result.error) throw result.error
  return result.status ?? 1
}

function must(command, args, options) {
  const status = run(command, args, options)
  if (status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed with exit code ${status}`)
    process.exit(status)
  }
}

function pnpmCommand() {
  const wanted = pnpmSpec.split('@')[1]
  const local = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (!local.error && local.status === 0 && local.stdout.trim() === wanted) return ['pnpm', []]
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
  return [npx, ['-y', pnpmSpec]]
}

const [pnpm, pnpmPrefix] = pnpmCommand()
const pn = (args, options) => must(pnpm, [...pnpmPrefix, ...args], options)

function installIfNeeded() {
  const marker = join(root, 'node_modules', '.modules.yaml')
  const lock = join(root, 'pnpm-lock.yaml')
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
  console.log('> installing dependencies (pnpm install --frozen-lockfile)')
  pn(['install', '--frozen-lockfile'])
}

// What a package's build reads: its sources and build settings, the shared compiler settings and
// the lockfile (a dependency's new version can change the output).
const BUILD_INPUTS = ['src', 'scripts', 'prebuilt', 'package.json', 'tsup.config.ts', 'tsconfig.json']

/** The newest (or oldest) modification time under `path`, files only; undefined if there are none. */
function mtimeUnder(path, pick) {
  if (!existsSync(path)) return undefined
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let found
  for (const name of readdirSync(path)) {
    const t = mtimeUnder(join(path, name), pick)
    if (t !== undefined) found = found === undefined ? t : pick(found, t)
  }
  return found
}

// Written after a build that succeeded, removed before each build: a build that failed halfway
// leaves dist/ newer than the sources, and must not count as current.
const BUILD_STAMP = join(root, 'node_modules', '.taurobot-build-stamp')

/** True when the last build succeeded after the last change to what any package's build reads. */
function packagesUpToDate() {
  if (!existsSync(BUILD_STAMP)) return false
  const built = statSync(BUILD_STAMP).mtimeMs
  const shared = Math.max(
    mtimeUnder(join(root, 'tsconfig.base.json'), Math.max) ?? 0,
    mtimeUnder(join(root, 'pnpm-lock.yaml'), Math.max) ?? 0,
  )
  if (shared >= built) return false
  const packagesDir = join(root, 'packages')
  return readdirSync(packagesDir).every((name) => {
    const dir = join(packagesDir, name)
    if (!existsSync(join(dir, 'package.json'))) return true
    if (!existsSync(join(dir, 'dist'))) return false
    return BUILD_INPUTS.every((input) => (mtimeUnder(join(dir, input), Math.max) ?? 0) < built)
  })
}

function build({ force = false } = {}) {
  // A build takes tens of seconds; skipped when nothing it reads changed since the last one.
  if (!force && packagesUpToDate()) {
    console.log('> packages are up to date (npm run build rebuilds them)')
    return
  }
  console.log('> building packages')
  rmSync(BUILD_STAMP, { force: true })
  // pnpm -r prints each package's build output, compiler errors included, on its stdout: kept
  // quiet when the build succeeds, shown when it fails.
  const args = [...pnpmPrefix, '-r', '--filter', './packages/*', 'run', 'build']
  const result = spawnSync(pnpm, args, {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '')
    console.error(`\nthe package build failed (exit code ${result.status}); the output above says why`)
    process.exit(result.status ?? 1)
  }
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`)
}

function test(extraArgs) {
  const resultsFile = join(root, '.vitest-results.json')
  rmSync(resultsFile, { force: true })
  const status = run(process.execPath, [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...extraArgs,
  ])
  // A plain closing line that CI and humans can read without knowing vitest's summary format.
  let passed = 0
  let failed = 0
  let skipped = 0
  if (existsSync(resultsFile)) {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'))
    passed = results.numPassedTests
    failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0)
    skipped = results.numPendingTests + results.numTodoTests
    for (const suite of results.testResults ?? []) {
      if (suite.status === 'failed' && suite.assertionResults.length === 0) failed += 1
    }
  } else {
    failed = 1
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(status !== 0 || failed > 0 ? status || 1 : 0)
}

/**
 * Runs the bot in a node process of its own, with no pnpm or tsx wrapper in between: Ctrl+C
 * reaches every process of the terminal's group, and a wrapper would report the bot's clean stop
 * as a command "failed with signal SIGINT". This process only waits and passes the exit code on.
 */
function start(extraArgs) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {})
  const status = run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...extraArgs], {
    cwd: join(root, 'examples', 'bot'),
  })
  process.exit(status)
}

const [task = 'test', ...rest] = process.argv.slice(2)
if (!['start', 'test', 'bench', 'build'].includes(task)) {
  console.error(`unknown task "${task}": use start, test, bench or build`)
  process.exit(2)
}
installIfNeeded()
// `npm run build` builds every package whatever changed; the others only when something did.
build({ force: task === 'build' })
if (task === 'test') test(rest)
else if (task === 'bench') pn(['--filter', './bench', 'run', 'bench', ...rest])
else if (task === 'start') start(rest)
