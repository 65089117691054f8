// Runs on a piscina worker thread. Each thread loads an engine lazily, once, on its first task, and
// keeps it warm for the next ones. Results and failures travel back as plain data: an Error's own
// properties (code, details) would not survive the structured clone.

import { threadId } from 'node:worker_threads'
import type { AudioFormat } from './encode.js'
import { encodeOggOpus, encodeWav, opusSampleRate } from './encode.js'
import type { Engine, EngineAudio, EngineCancellation, EngineSpeechOptions } from './engine.js'
import { EngineCancelledError } from './engine.js'
import { checkEngineAudio } from './engine-audio.js'
import { createEngine } from './engines/load.js'
import type { VoiceErrorCode } from './errors.js'
import { VoiceError } from './errors.js'

/** A task sent from the pool to a worker thread. */
export interface WorkerTask {
  kind: 'synthesize' | 'warmup'
  engine: string
  text: string
  options: EngineSpeechOptions
  format: AudioFormat
  /** One Int32 on a SharedArrayBuffer; the pool sets it to 1 to ask the task to stop. */
  cancel: Int32Array
  /**
   * Warm-up of every thread: one Int32 counting the tasks of the group that have reached a thread,
   * and the group's size. Each task holds its thread until the whole group has arrived, so no
   * thread can take two of them while another gets none.
   */
  barrier?: { arrived: Int32Array; size: number }
}

/** What a worker sends back for one task. */
export type WorkerResult =
  | {
      ok: true
      data: Uint8Array
      sampleRate: number
      durationMs: number
      /** Set when this task paid for loading the engine on its thread. */
      engineInitMs?: number
      /** The worker thread that ran the task (set for warm-up tasks and with `engineInitMs`). */
      threadId?: number
    }
  | {
      ok: false
      cancelled: boolean
      error: { code: VoiceErrorCode; message: string; details: Record<string, unknown> }
      /** Set when this task loaded the engine before failing: the load still happened. */
      engineInitMs?: number
      threadId?: number
    }

interface LoadedEngine {
  engine: Engine
  initMs: number
}

const engines = new Map<string, Promise<LoadedEngine>>()

async function load(spec: string): Promise<LoadedEngine> {
  const started = performance.now()
  const engine = await createEngine(spec)
  await engine.init?.()
  return { engine, initMs: performance.now() - started }
}

// Numbers and words that most languages read with their own rules: real replies go through the
// engine's letter-to-sound rules, which numbers alone leave cold.
const warmupText = 'Ok, 1, 2, 3. Alfa, bravo, tango, hotel, taxi, radio, pizza, piano, banana, amore, musica?'
const warmupRuns = 8
const warmupMinRuns = 3

/**
 * An engine compiled to JavaScript runs its first sentences in V8's interpreter, several times
 * slower than once the optimising compiler has caught up (about 400 ms against 15 ms per sentence
 * for espeak-ng). Warming up therefore repeats a short text until one run is as fast as the best
 * so far suggests it has settled, bounded by a few runs.
 */
async function warmEngine(
  engine: Engine,
  options: EngineSpeechOptions,
  cancellation: EngineCancellation,
): Promise<EngineAudio> {
  let audio: EngineAudio | undefined
  let first = Number.POSITIVE_INFINITY
  const runs = Math.max(1, Math.min(warmupRuns, Math.floor(engine.warmupRuns ?? warmupRuns)))
  for (let run = 0; run < runs; run++) {
    if (cancellation.cancelled) throw new EngineCancelledError()
    const started = performance.now()
    audio = await engine.synthesize(warmupText, options, cancellation)
    const elapsed = performance.now() - started
    if (run === 0) first = elapsed
    else if (run + 1 >= warmupMinRuns && elapsed < first / 8) break
  }
  return audio as EngineAudio
}

// Bounds the wait for the rest of a warm-up group, in case the pool cannot give it every thread at
// once (threads busy with long tasks): a thread warmed twice is harmless, a stuck one is not.
const barrierTimeoutMs = 10_000

async function awaitGroup(
  barrier: NonNullable<WorkerTask['barrier']>,
  cancellation: EngineCancellation,
): Promise<void> {
  const deadline = performance.now() + barrierTimeoutMs
  while (Atomics.load(barrier.arrived, 0) < barrier.size && !cancellation.cancelled) {
    if (performance.now() > deadline) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

function stripPrefix(message: string): string {
  return message.startsWith('[@taurobot/voice] ') ? message.slice(18) : message
}

function failure(error: unknown, engine: string, cancelled: boolean): WorkerResult {
  if (cancelled || error instanceof EngineCancelledError) {
    return { ok: false, cancelled: true, error: { code: 'engine-failed', message: 'cancelled', details: {} } }
  }
  if (error instanceof VoiceError) {
    return {
      ok: false,
      cancelled: false,
      error: { code: error.code, message: stripPrefix(error.message), details: error.details },
    }
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return {
    ok: false,
    cancelled: false,
    error: {
      code: 'engine-failed',
      message: `the "${engine}" engine failed: ${text}. The engine is reloaded for the next task.`,
      details: { engine, reason: text },
    },
  }
}

/** Piscina calls this export (named, so that CommonJS and ESM builds agree) once per task. */
export async function runTask(task: WorkerTask): Promise<WorkerResult> {
  const cancellation: EngineCancellation = {
    get cancelled() {
      return Atomics.load(task.cancel, 0) !== 0
    },
  }
  if (task.barrier) Atomics.add(task.barrier.arrived, 0, 1)
  let pending = engines.get(task.engine)
  const firstUse = pending === undefined
  if (pending === undefined) {
    pending = load(task.engine)
    engines.set(task.engine, pending)
  }
  let loaded: LoadedEngine
  try {
    loaded = await pending
  } catch (error) {
    // A failed load is retried by the next task instead of poisoning the thread.
    engines.delete(task.engine)
    return failure(error, task.engine, false)
  }
  try {
    if (cancellation.cancelled) throw new EngineCancelledError()
    const audio = checkEngineAudio(
      task.kind === 'warmup'
        ? await warmEngine(loaded.engine, task.options, cancellation)
        : await loaded.engine.synthesize(task.text, task.options, cancellation),
      task.engine,
    )
    if (cancellation.cancelled) throw new EngineCancelledError()
    const data =
      task.format === 'ogg'
        ? await encodeOggOpus(audio.samples, audio.sampleRate, cancellation)
        : encodeWav(audio.samples, audio.sampleRate)
    const result: WorkerResult = {
      ok: true,
      data,
      sampleRate: task.format === 'ogg' ? opusSampleRate : audio.sampleRate,
      durationMs: (audio.samples.length / audio.sampleRate) * 1000,
    }
    if (firstUse) {
      result.engineInitMs = loaded.initMs
      result.threadId = threadId
    }
    if (task.kind === 'warmup') result.threadId = threadId
    if (task.barrier) await awaitGroup(task.barrier, cancellation)
    return result
  } catch (error) {
    // An engine that threw something unexpected may be in a broken state (a WASM trap, say):
    // drop it so the next task on this thread starts from a fresh one.
    const cancelled = cancellation.cancelled || error instanceof EngineCancelledError
    if (!cancelled && !(error instanceof VoiceError)) engines.delete(task.engine)
    const result = failure(error, task.engine, cancelled)
    if (firstUse) {
      result.engineInitMs = loaded.initMs
      result.threadId = threadId
    }
    return result
  }
}
