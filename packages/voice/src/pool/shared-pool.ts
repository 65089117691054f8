// The one worker pool of the process. Every VoiceSystem, and every loaded copy of this package
// (ESM and CJS, or two versions with the same protocol), dispatches through the same object, kept on
// globalThis under a registered symbol.

import type { VoicePoolOptions } from './options.js'
import { PoolCore, poolProtocol } from './pool.js'
import type { VoicePoolStats } from './stats.js'

const globalKey = Symbol.for('@taurobot/voice.pool')

/** The process-wide pool: the one already registered on globalThis, or a new one registered now. */
export function sharedPool(): PoolCore {
  const registry = globalThis as unknown as Record<symbol, unknown>
  const existing = registry[globalKey] as { protocol?: unknown } | undefined
  if (existing?.protocol === poolProtocol) return existing as PoolCore
  if (existing === undefined) {
    const created = new PoolCore()
    registry[globalKey] = created
    return created
  }
  // A copy speaking another protocol keeps its pool; this copy then uses a private one.
  privatePool ??= new PoolCore()
  return privatePool
}

let privatePool: PoolCore | undefined

/** The process-wide worker pool shared by every {@link VoiceSystem}. */
export interface VoicePool {
  /** Changes pool settings; thread settings only before the first task starts a thread. */
  configure(options: VoicePoolOptions): void
  /** A snapshot of threads, queue, counters and latency percentiles. */
  stats(): VoicePoolStats
  /** True when the queue filled up and has not yet fallen back to half: wait for `drain()`. */
  readonly needsDrain: boolean
  /** Resolves once `needsDrain` is false (at once if it already is). */
  drain(): Promise<void>
  /** True after `close()` or `destroy()`; new tasks are then rejected with `pool-closed`. */
  readonly closed: boolean
  /**
   * Stops accepting tasks, lets every accepted task (queued or running) settle with its real result,
   * then stops the threads. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>
  /** Stops now: pending tasks reject with `VoiceError('pool-closed')` and threads are terminated. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * The shared pool. It starts lazily on the first task; idle threads never keep the process alive.
 * @example
 * ```ts
 * import { voicePool } from '@taurobot/voice'
 * voicePool.configure({ maxThreads: 2, handleSignals: true })
 * console.log(voicePool.stats().runTime.p99)
 * await voicePool.close()
 * ```
 */
export const voicePool: VoicePool = {
  configure: (options) => sharedPool().configure(options),
  stats: () => sharedPool().stats(),
  get needsDrain() {
    return sharedPool().needsDrain
  },
  drain: () => sharedPool().drain(),
  get closed() {
    return sharedPool().closed
  },
  close: () => sharedPool().close(),
  destroy: () => sharedPool().destroy(),
  [Symbol.asyncDispose]: () => sharedPool().close(),
}
