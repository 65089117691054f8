import { availableParallelism } from 'node:os'
import { describe, refusal } from '../describe.js'
import { checkOptionNames } from '../known-options.js'
import { moduleLocation } from '../module-location.js'

/** Settings of the shared pool. Thread settings apply only before the pool starts its first thread. */
export interface VoicePoolOptions {
  /**
   * Most worker threads alive at once.
   * @default os.availableParallelism()
   */
  maxThreads?: number
  /**
   * Milliseconds an idle thread lives before it is stopped, so an idle bot drops to zero threads.
   * Idle threads never keep the process alive, whatever this value.
   * @default 30000
   */
  idleTimeout?: number
  /**
   * Most tasks waiting for a thread; one more is rejected with `VoiceError('queue-full')`.
   * @default 2048
   */
  maxQueue?: number
  /**
   * Heap limit of each worker thread in MB. A task that exceeds it fails with
   * `VoiceError('out-of-memory')` and its thread is replaced; the process is not affected.
   * @default 256
   */
  maxMemoryMb?: number
  /**
   * Milliseconds a cancelled running task has to stop on its own before its thread is terminated.
   * @default 1000
   */
  cancelGraceMs?: number
  /**
   * Absolute path or `file:` URL of the worker module; a relative path is a `RangeError`, as it
   * would depend on the working directory. Needed only when the package is bundled in a way that
   * hides its `dist/worker.js` (see the README's bundling section).
   * @default next to this module, else `@taurobot/voice/worker` resolved from the working directory
   */
  workerPath?: string | URL
  /**
   * On SIGINT/SIGTERM, close the pool (every accepted task finishes) and then re-raise the signal,
   * so the exit code stays 130/143. Off by default: the package adds no process listeners.
   * @default false
   */
  handleSignals?: boolean
}

/** The pool's settings with every default filled in; `handleSignals` is an action, not a setting. */
export type PoolSettings = Required<Omit<VoicePoolOptions, 'workerPath' | 'handleSignals'>> & {
  workerPath: string | URL | undefined
}

// A record, so that an option added to the interface and not here fails to type-check.
const optionNames = Object.keys({
  maxThreads: true,
  idleTimeout: true,
  maxQueue: true,
  maxMemoryMb: true,
  cancelGraceMs: true,
  workerPath: true,
  handleSignals: true,
} satisfies Record<keyof VoicePoolOptions, true>)

/** Options that shape the threads, so that only apply before the first thread starts. */
export const threadOptions = ['maxThreads', 'idleTimeout', 'maxMemoryMb', 'workerPath'] as const

export function defaultSettings(): PoolSettings {
  return {
    maxThreads: availableParallelism(),
    idleTimeout: 30_000,
    maxQueue: 2048,
    maxMemoryMb: 256,
    cancelGraceMs: 1000,
    workerPath: undefined,
  }
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw refusal(value, 'number', `${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw refusal(
      value,
      'number',
      `${name} must be a non-negative number of milliseconds, got ${String(value)}`,
    )
  }
  return value
}

/**
 * `current` with the settings `options` gives. Checks every option first, so a bad one (a
 * `TypeError` or `RangeError` naming it and its value) leaves the settings as they were.
 */
export function applyOptions(current: PoolSettings, options: VoicePoolOptions): PoolSettings {
  checkOptionNames(options, optionNames, 'voicePool.configure()')
  const next = { ...current }
  if (options.maxThreads !== undefined) next.maxThreads = positiveInteger('maxThreads', options.maxThreads)
  if (options.maxQueue !== undefined) next.maxQueue = positiveInteger('maxQueue', options.maxQueue)
  if (options.maxMemoryMb !== undefined)
    next.maxMemoryMb = positiveInteger('maxMemoryMb', options.maxMemoryMb)
  if (options.idleTimeout !== undefined) next.idleTimeout = nonNegative('idleTimeout', options.idleTimeout)
  if (options.cancelGraceMs !== undefined) {
    next.cancelGraceMs = nonNegative('cancelGraceMs', options.cancelGraceMs)
  }
  if (options.workerPath !== undefined) {
    if (typeof options.workerPath !== 'string' && !(options.workerPath instanceof URL)) {
      throw new TypeError(`workerPath must be a path or a file: URL, got ${String(options.workerPath)}`)
    }
    // Refused here rather than at the first task, which would only report a missing worker.
    const location = moduleLocation(String(options.workerPath))
    if (location !== 'complete') {
      throw new RangeError(
        `workerPath must be an absolute path or a complete file: URL (e.g. path.resolve('dist/worker.js') ` +
          `or new URL('./worker.js', import.meta.url)), got ${describe(String(options.workerPath))}`,
      )
    }
    next.workerPath = options.workerPath
  }
  if (options.handleSignals !== undefined && typeof options.handleSignals !== 'boolean') {
    throw new TypeError(`handleSignals must be a boolean, got ${String(options.handleSignals)}`)
  }
  return next
}
