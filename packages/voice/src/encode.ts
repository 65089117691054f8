import type OpusScript from 'opusscript'
import type { EngineCancellation } from './engine.js'
import { EngineCancelledError } from './engine.js'
import { muxOggOpus } from './ogg.js'
import { resample } from './resample.js'

/** The audio container formats `VoiceSystem` produces. */
export type AudioFormat = 'ogg' | 'wav'

/** MIME type of each format, as Telegram and browsers expect it. */
export const mimeTypes: Record<AudioFormat, string> = {
  ogg: 'audio/ogg',
  wav: 'audio/wav',
}

/** A RIFF/WAVE file holding mono 16-bit PCM. */
export function encodeWav(samples: Int16Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2
  const out = new Uint8Array(44 + dataBytes)
  const view = new DataView(out.buffer)
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i)
  }
  ascii(0, 'RIFF')
  view.setUint32(4, 36 + dataBytes, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, 16, true) // fmt chunk size
  view.setUint16(20, 1, true) // PCM
  view.setUint16(22, 1, true) // mono
  view.setUint32(24, sampleRate, true)
  view.setUint32(28, sampleRate * 2, true) // byte rate
  view.setUint16(32, 2, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  ascii(36, 'data')
  view.setUint32(40, dataBytes, true)
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, samples[i] as number, true)
  return out
}

/** Ogg Opus always describes audio at 48 kHz: granule positions and pre-skip count 48 kHz samples. */
export const opusSampleRate = 48_000
// The encoder is fed 24 kHz: the nearest rate Opus accepts above espeak-ng's 22,050 Hz, so no band
// of the speech is lost, and half the samples of 48 kHz to resample and analyse.
const encodeRate = 24_000
const granuleScale = opusSampleRate / encodeRate
const frameSamples = encodeRate / 50 // 20 ms
const bitrate = 24_000
// Measured on espeak-ng speech at 24 kbit/s with opusscript's WebAssembly build: the AUDIO
// application at complexity 2 encodes about 1.5x faster than VOIP at complexity 3, and its decoded
// waveform is closer to the input (segmental SNR about 14.7 dB against 9.5 dB).
const complexity = 2
const ctl = {
  setComplexity: 4010,
  setSignal: 4024,
  signalVoice: 3001,
  getLookahead: 4027,
  resetState: 4028,
} as const

let encoder: OpusScript | undefined
let lookahead = 156 // libopus at 24 kHz: 2.5 ms + 4 ms delay compensation; refined below

async function opusEncoder(): Promise<OpusScript> {
  if (encoder) return encoder
  const { default: Opus } = await import('opusscript')
  const created = new Opus(encodeRate, 1, Opus.Application.AUDIO)
  created.setBitrate(bitrate)
  created.encoderCTL(ctl.setComplexity, complexity)
  created.encoderCTL(ctl.setSignal, ctl.signalVoice)
  // opusscript has no getter API; OPUS_GET_LOOKAHEAD writes an int32 through the pointer argument,
  // so point it at the instance's own scratch buffer. Fall back to libopus's documented value.
  const internals = created as unknown as {
    handler?: { _encoder_ctl?: (request: number, pointer: number) => number }
    inOpusPointer?: number
    inOpus?: Uint8Array
  }
  if (internals.handler?._encoder_ctl && internals.inOpusPointer !== undefined && internals.inOpus) {
    if (internals.handler._encoder_ctl(ctl.getLookahead, internals.inOpusPointer) === 0) {
      const bytes = internals.inOpus
      const value = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true)
      if (value > 0 && value < encodeRate / 10) lookahead = value
    }
  }
  encoder = created
  return created
}

/** Encodes mono PCM as Ogg/Opus: ~24 kbit/s, 20 ms frames, exact end trimming. */
export async function encodeOggOpus(
  samples: Int16Array,
  sampleRate: number,
  cancellation: EngineCancellation,
): Promise<Uint8Array> {
  const opus = await opusEncoder()
  opus.encoderCTL(ctl.resetState, 0)
  const pcm = resample(samples, sampleRate, encodeRate)
  // Encode lookahead extra samples so the decoder, after dropping them, still has every real one.
  const frameCount = Math.max(1, Math.ceil((pcm.length + lookahead) / frameSamples))
  const padded = new Int16Array(frameCount * frameSamples)
  padded.set(pcm)
  const packets: Uint8Array[] = []
  for (let frame = 0; frame < frameCount; frame++) {
    if (frame % 50 === 0 && cancellation.cancelled) throw new EngineCancelledError()
    // opusscript takes the frame as little-endian bytes (Int16Array is little-endian on every
    // platform Node supports).
    const input = Buffer.from(padded.buffer, frame * frameSamples * 2, frameSamples * 2)
    packets.push(new Uint8Array(opus.encode(input, frameSamples)))
  }
  return muxOggOpus({
    packets,
    frameSamples: frameSamples * granuleScale,
    preSkip: lookahead * granuleScale,
    sampleCount: pcm.length * granuleScale,
    inputSampleRate: sampleRate,
    serial: contentSerial(pcm),
    vendor: '@taurobot/voice (libopus via opusscript)',
  })
}

/**
 * The Ogg stream serial, from the audio itself (FNV-1a of the samples) rather than at random: the
 * same audio then gives the same file, byte for byte, while different replies still get different
 * serials, as Ogg asks of streams that may be chained.
 */
function contentSerial(pcm: Int16Array): number {
  let hash = 0x811c9dc5
  // An index loop, not for...of: on a thread's first reply this runs before V8 has optimised it,
  // and the interpreter's iterator made it cost as much as the rest of the encoding's JavaScript.
  for (let i = 0; i < pcm.length; i++) {
    hash = Math.imul(hash ^ ((pcm[i] as number) & 0xffff), 0x01000193)
  }
  return hash >>> 0
}
