// What an engine hands back is checked before it is encoded. Without this a bad sample rate came
// back as a WAV "success" with a negative or NaN duration, and the Ogg encoder failed with a stack
// overflow or a typed-array length that named nothing the engine's author could act on.
import type { EngineAudio } from './engine.js'
import { VoiceError } from './errors.js'

// The WAV header stores the byte rate (2 bytes per sample) in 32 bits.
const maxSampleRate = 0x7fffffff

/** `-5 (number)`, `"x" (string)`, `Float32Array`, `an Array`: what a message says the engine gave. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an Array'
  if (ArrayBuffer.isView(value)) return value.constructor.name
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return `${text} (${typeof value})`
}

function invalid(engine: string, field: string, problem: string, value: unknown): VoiceError {
  return new VoiceError(
    'engine-failed',
    `the "${engine}" engine returned an invalid result: ${problem}, got ${shown(value)}. ` +
      'Fix the engine\'s synthesize(): it must return { samples: Int16Array, sampleRate } (see "Engines" in the README).',
    { details: { engine, field } },
  )
}

/**
 * The engine's result when it keeps the {@link EngineAudio} contract, else a
 * `VoiceError('engine-failed')` naming the field. Only what the contract promises is accepted:
 * an Array or Float32Array would need a conversion whose scale the package can only guess.
 */
export function checkEngineAudio(audio: unknown, engine: string): EngineAudio {
  if (typeof audio !== 'object' || audio === null) {
    throw invalid(engine, 'result', 'synthesize() must resolve with an object', audio)
  }
  const { samples, sampleRate } = audio as Partial<Record<keyof EngineAudio, unknown>>
  if (!(samples instanceof Int16Array)) {
    const advice =
      samples instanceof Float32Array || samples instanceof Float64Array
        ? ' (scale float samples from -1..1 to -32768..32767 into an Int16Array)'
        : ''
    throw invalid(engine, 'samples', `samples must be an Int16Array of mono 16-bit PCM${advice}`, samples)
  }
  if (
    typeof sampleRate !== 'number' ||
    !Number.isInteger(sampleRate) ||
    sampleRate < 1 ||
    sampleRate > maxSampleRate
  ) {
    throw invalid(
      engine,
      'sampleRate',
      'sampleRate must be a positive whole number of samples per second, such as 22050',
      sampleRate,
    )
  }
  return { samples, sampleRate }
}
