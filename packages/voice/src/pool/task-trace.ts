// The pool's side of the diagnostics channels (diagnostics.ts): the task message built only when the
// task channel has subscribers, and the end fields filled in as the task settles.
import {
  engineInitChannel,
  taskChannel,
  type VoiceEngineInitMessage,
  type VoiceTaskMessage,
  type VoiceTaskOutcome,
} from '../diagnostics.js'
import { VoiceError } from '../errors.js'
import type { WorkerTask } from '../worker.js'

/**
 * Runs `submit`, traced on `taurobot:voice:task` when someone listens; otherwise calls it with no
 * message, so that an unobserved task costs one `hasSubscribers` read.
 */
export function traceTask<T>(
  task: WorkerTask,
  submit: (trace: VoiceTaskMessage | undefined) => Promise<T>,
): Promise<T> {
  if (!taskChannel.hasSubscribers) return submit(undefined)
  // The text stays out of the message: it is user data, and only its length is of use to metrics.
  const trace: VoiceTaskMessage = {
    kind: task.kind,
    engine: task.engine,
    language: task.options.language,
    voice: task.options.voice,
    format: task.format,
    textLength: task.text.length,
  }
  return taskChannel.tracePromise(() => submit(trace), trace)
}

/** Fills in how a traced task ended; diagnostics_channel publishes the message after this. */
export function endTrace(
  trace: VoiceTaskMessage | undefined,
  outcome: VoiceTaskOutcome,
  error?: unknown,
): void {
  if (trace === undefined) return
  trace.outcome = outcome
  if (error instanceof VoiceError) trace.errorCode = error.code
}

/** Publishes one engine load of a worker thread, if someone listens. */
export function publishEngineInit(engine: string, durationMs: number, threadId: number | undefined): void {
  if (!engineInitChannel.hasSubscribers) return
  const message: VoiceEngineInitMessage = { engine, durationMs, threadId }
  engineInitChannel.publish(message)
}
