#!/usr/bin/env node
// The two quick-start commands (`npm start`, `npm test`) and `npm run bench` land here. They must
// work on a machine that has only Node and npm: pnpm is fetched through npx at the version pinned in
// package.json, dependencies are installed from the lockfile when missing, and the packages are
// built before anything that uses them runs.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
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

function build() {
  console.log('> building packages')
  pn(['-r', '--filter', './packages/*', 'run', 'build'], { stdio: ['inherit', 'ignore', 'inherit'] })
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
installIfNeeded()
build()
if (task === 'test') {
  test(rest)
} else if (task === 'bench') {
  pn(['--filter', './bench', 'run', 'bench', ...rest])
} else if (task === 'start') {
  start(rest)
} else {
  console.error(`unknown task "${task}": use start, test or bench`)
  process.exit(2)
}
