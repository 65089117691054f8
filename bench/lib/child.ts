import { spawn } from 'node:child_process'
import { join } from 'node:path'

export interface ChildRun<T> {
  report: T
  /** Milliseconds from the child's reported `lastTaskDoneEpochMs` to its exit, or null if it did not exit. */
  exitAfterMs: number | null
}

/**
 * Runs `bench/lib/<script>` with tsx in a fresh process, takes the line `<marker> {json}` from its
 * stdout, and times how long the process takes to exit by itself after `lastTaskDoneEpochMs`. A
 * child still alive after `exitWaitMs` is killed and reported as not exiting.
 */
export function runChild<T extends object>(
  script: string,
  args: string[],
  marker: string,
  exitWaitMs: number,
): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let report: T | undefined
    let killTimer: NodeJS.Timeout | undefined
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      // Only whole lines: a long report arrives in several chunks.
      const line = stdout
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith(`${marker} `))
      if (line !== undefined && report === undefined) {
        report = JSON.parse(line.slice(marker.length + 1)) as T
        killTimer = setTimeout(() => child.kill('SIGKILL'), exitWaitMs)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    child.on('exit', (code, signal) => {
      const exitedAt = performance.timeOrigin + performance.now()
      clearTimeout(killTimer)
      if (report === undefined) {
        reject(
          new Error(
            `${script} ${args.join(' ')} exited with ${signal ?? code} and no report: ${stderr.trim()}`,
          ),
        )
        return
      }
      const done = (report as { lastTaskDoneEpochMs?: number }).lastTaskDoneEpochMs
      const exitAfterMs = signal === 'SIGKILL' || done === undefined ? null : Math.max(0, exitedAt - done)
      resolve({ report, exitAfterMs })
    })
  })
}
