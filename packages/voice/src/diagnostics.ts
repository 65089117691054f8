// What the package publishes on node:diagnostics_channel, for APM tools and the metrics exporter
// (metrics.ts). Channels are process-wide by name, so the ESM and CJS builds, and two copies of the
// package, publish on the same ones. Publishers check `hasSubscribers` before building a message:
// with nobody listening, a task costs one property read per channel.

import { channel, tracingChannel } from 'node:diagnostics_channel'
import type { AudioFormat } from './encode.js'
import type { VoiceErrorCode } from './errors.js'

/** The names of the channels `@taurobot/voice` publishes on. */
export const voiceChannels = {
  /**
   * A tracing channel: Node publishes `tracing:taurobot:voice:task:start`, `:end`, `:asyncStart`,
   * `:asyncEnd` and `:error` with one {@link VoiceTaskMessage} per task.
   */
  task: 'taurobot:voice:task',
  /** One {@link VoiceEngineInitMessage} each time a worker thread loads an engine. */
  engineInit: 'taurobot:voice:engine-init',
  /** One {@link VoicePoolMessage} when the pool starts, stops, or loses a thread. */
  pool: 'taurobot:voice:pool',
} as const

/** How a task ended: as in `voicePool.stats()` (`completed`, `failed`, `cancelled`). */
export type VoiceTaskOutcome = 'completed' | 'failed' | 'cancelled'

/**
 * The context of one task on the `taurobot:voice:task` tracing channel. The same object is published
 * at start and at end: the fields below the line are filled in before `asyncEnd` (and `error`).
 * It never holds the text, only its length.
 */
export interface VoiceTaskMessage {
  /** `synthesize` for speech (`synthesize()`, `textToSpeech()`, `stream()`), `warmup` for `warmup()`. */
  kind: 'synthesize' | 'warmup'
  /** The `engine` option: `'espeak-ng-wasm'`, `'espeak-ng'` or the path of a custom engine module. */
  engine: string
  /** The language code the engine is given (e.g. `'it'`, after BCP 47 mapping). */
  language: string
  /** The voice variant, or `undefined` for the language's default voice. */
  voice: string | undefined
  /** The output format asked for. */
  format: AudioFormat
  /** Length of the text handed to the engine (after `speechText`), in UTF-16 code units as `String.length`. */
  textLength: number
  /** How the task ended; set before `asyncEnd`. */
  outcome?: VoiceTaskOutcome
  /** Milliseconds from acceptance to a thread starting it; unset if it never reached a thread. */
  waitMs?: number
  /** Milliseconds the thread spent on it, engine loading included; unset unless the thread answered. */
  runMs?: number
  /** Bytes of encoded audio; set when `outcome` is `completed`. */
  audioBytes?: number
  /** Milliseconds of speech in the audio; set when `outcome` is `completed`. */
  audioMs?: number
  /** The `VoiceError` code when the task ended with one (including `timeout` and `queue-full`). */
  errorCode?: VoiceErrorCode
  /** Set by `diagnostics_channel` on a failure: the rejection reason. */
  error?: unknown
  /** Set by `diagnostics_channel` on success; internal, read the fields above instead. */
  result?: unknown
}

/** A message on `taurobot:voice:engine-init`. */
export interface VoiceEngineInitMessage {
  /** The `engine` option, as in {@link VoiceTaskMessage.engine}. */
  engine: string
  /** Milliseconds the thread spent loading and initialising the engine. */
  durationMs: number
  /** The worker thread's `threadId`. */
  threadId: number | undefined
}

/** A message on `taurobot:voice:pool`. */
export type VoicePoolMessage =
  | {
      /** The first task started the pool (its threads start on demand). */
      event: 'created'
      maxThreads: number
    }
  | {
      /** The pool's threads were stopped by `close()` (after draining) or `destroy()`. */
      event: 'closed'
      by: 'close' | 'destroy'
    }
  | {
      /**
       * A thread died under a task: `worker-crashed` (it exited or threw), `out-of-memory`, or
       * `terminated` (it ignored cancellation past `cancelGraceMs`). The pool starts a new thread
       * for the next task.
       */
      event: 'thread-replaced'
      reason: 'worker-crashed' | 'out-of-memory' | 'terminated'
    }

/** Channels as the publishers use them. Internal: the public surface is the names and messages. */
export const taskChannel = tracingChannel<VoiceTaskMessage>(voiceChannels.task)
export const engineInitChannel = channel(voiceChannels.engineInit)
export const poolChannel = channel(voiceChannels.pool)

/** Publishes a pool event, building the message only when someone listens. */
export function publishPool(build: () => VoicePoolMessage): void {
  if (poolChannel.hasSubscribers) poolChannel.publish(build())
}
