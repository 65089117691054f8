import { VoiceError } from '../errors.js'

/**
 * The {@link VoiceError} for a task whose thread failed under it (out of memory, `process.exit()`,
 * a crash), from the error piscina rejects the task with. Only that task fails; piscina replaces
 * the thread.
 */
export function threadError(error: unknown, maxMemoryMb: number): VoiceError {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new VoiceError(
      'out-of-memory',
      `a worker thread ran out of memory (limit ${maxMemoryMb} MB) on this task and was replaced; other ` +
        'tasks are unaffected. Shorten the text or raise voicePool.configure({ maxMemoryMb }).',
      { cause: error, details: { maxMemoryMb } },
    )
  }
  const exit = /worker exited with code: (-?\d+)/.exec(message)
  if (exit) {
    return new VoiceError(
      'worker-crashed',
      `the worker thread exited with code ${exit[1]} while running this task; it was replaced and ` +
        'other tasks are unaffected. Check the engine.',
      { cause: error, details: { exitCode: Number(exit[1]) } },
    )
  }
  return new VoiceError(
    'worker-crashed',
    `the worker thread failed while running this task (${message}); it was replaced and other tasks are unaffected.`,
    { cause: error, details: { reason: message } },
  )
}
