// Runs the voice benches' child scripts as plain JavaScript under plain `node`, as a deployed bot
// runs. Under tsx, the loader's asynchronous cache writes kept every child, even one that does
// nothing, alive about 45 ms after its last work, and worker threads inherit `--import tsx`, so
// each of them started the loader too: costs of the harness, not of the package.
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { build } from 'esbuild'

const benchDir = join(import.meta.dirname, '..')

/** Bundles `bench/lib/<name>.ts` (packages stay imports) into `bench/.tmp/<name>.mjs`. */
export async function bundleChild(name: string): Promise<string> {
  const dir = join(benchDir, '.tmp')
  mkdirSync(dir, { recursive: true })
  const outfile = join(dir, `${name}.mjs`)
  await build({
    entryPoints: [join(import.meta.dirname, `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
  return outfile
}

export interface PlainChildRun {
  /** The text after `<marker> ` of the first stdout line starting with each marker seen. */
  lines: Record<string, string>
  /** When the parent saw the child exit (epoch ms). */
  exitedAtEpochMs: number
  /** True if the child was still alive `exitWaitMs` after its report and was killed. */
  killed: boolean
}

/**
 * Runs a bundled child with `node`, waits for the line `<reportMarker> ...` on its stdout and for
 * its exit; a child still alive `exitWaitMs` after its report is killed.
 */
export function runPlainChild(
  script: string,
  args: string[],
  reportMarker: string,
  exitWaitMs: number,
): Promise<PlainChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: benchDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let killTimer: NodeJS.Timeout | undefined
    const lines = () => {
      const found: Record<string, string> = {}
      for (const line of stdout.split('\n')) {
        const space = line.indexOf(' ')
        if (space > 0 && !(line.slice(0, space) in found)) found[line.slice(0, space)] = line.slice(space + 1)
      }
      return found
    }
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (killTimer === undefined && stdout.includes(`${reportMarker} `)) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), exitWaitMs)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    child.on('exit', (code, signal) => {
      const exitedAtEpochMs = performance.timeOrigin + performance.now()
      clearTimeout(killTimer)
      const found = lines()
      if (found[reportMarker] === undefined) {
        reject(
          new Error(
            `${script} ${args.join(' ')} exited with ${signal ?? code} and no report: ${stderr.trim()}`,
          ),
        )
        return
      }
      resolve({ lines: found, exitedAtEpochMs, killed: signal === 'SIGKILL' })
    })
  })
}

/**
 * Installs @taurobot/voice into `bench/.tmp/<name>/` as a user would have it before
 * @taurobot/espeak-ng-wasm existed: its runtime dependencies and the wasm2js espeak-ng package only,
 * so that its default engine falls back to the wasm2js build. Copies the bundled child `script` into
 * that install and returns the copy's path.
 */
export function installWithWasm2jsOnly(script: string, name = 'wasm2js-install'): string {
  const voiceDir = join(benchDir, 'node_modules', '@taurobot', 'voice')
  const root = join(benchDir, '.tmp', name)
  rmSync(root, { recursive: true, force: true })
  const installed = join(root, 'node_modules', '@taurobot', 'voice')
  mkdirSync(installed, { recursive: true })
  mkdirSync(join(root, 'node_modules', '@echogarden'), { recursive: true })
  // A copy, not a link: resolved from its real path, a link would find the workspace's packages.
  cpSync(join(voiceDir, 'dist'), join(installed, 'dist'), { recursive: true })
  cpSync(join(voiceDir, 'package.json'), join(installed, 'package.json'))
  for (const dependency of ['piscina', 'opusscript', '@echogarden/espeak-ng-emscripten']) {
    symlinkSync(
      realpathSync(join(voiceDir, 'node_modules', dependency)),
      join(root, 'node_modules', dependency),
    )
  }
  const copy = join(root, basename(script))
  cpSync(script, copy)
  return copy
}
