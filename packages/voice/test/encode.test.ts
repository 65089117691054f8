// Unit tests of the encoders on known signals (no worker involved).
import { describe, expect, it } from 'vitest'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import { encodeOggOpus, encodeWav } from '../src/encode.js'
import { EspeakNgWasmEngine } from '../src/engines/espeak-ng-wasm.js'
import { muxOggOpus } from '../src/ogg.js'
import { resample } from '../src/resample.js'
import { decodeOggOpus, parseWav } from './helpers.js'

function sine(rate: number, seconds: number, hz: number, amplitude: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds))
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate))
  return out
}

describe('encodeWav', () => {
  it('writes a RIFF/WAVE header that matches the samples', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768])
    const wav = parseWav(encodeWav(samples, 16000))
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 })
    expect(Array.from(wav.samples)).toEqual([0, 1, -1, 32767, -32768])
  })
})

describe('encodeOggOpus', () => {
  it('round-trips a 22.05 kHz sine through resampling and Opus with the same length and waveform', async () => {
    const input = sine(22050, 1.5, 300, 8000)
    const file = await encodeOggOpus(input, 22050, { cancelled: false })
    const decoded = decodeOggOpus(file)
    // Resampled to the encoder's 24 kHz, then counted in Ogg Opus's 48 kHz.
    expect(decoded.length).toBe(Math.floor((input.length * 24000) / 22050) * 2)
    const reference = sine(48000, decoded.length / 48000, 300, 8000)
    // Best normalised correlation within ±2 ms: a codec bug or a wrong pre-skip drops it sharply.
    let best = 0
    for (let lag = -96; lag <= 96; lag++) {
      let num = 0
      let a = 0
      let b = 0
      for (let i = 4800; i < decoded.length - 4800; i++) {
        const x = decoded[i + lag] as number
        const y = reference[i] as number
        num += x * y
        a += x * x
        b += y * y
      }
      best = Math.max(best, num / Math.sqrt(a * b))
    }
    expect(best).toBeGreaterThan(0.9)
  })

  it('keeps real speech close to the input (segmental SNR of the decoded waveform)', async () => {
    const engine = new EspeakNgWasmEngine()
    await engine.init()
    const speech = engine.synthesize(
      'Il treno per Bologna parte dal binario quattro alle nove e un quarto.',
      { language: 'it', rate: 150, volume: 1, voice: undefined, pitch: 50 },
      { cancelled: false },
    )
    const decoded = decodeOggOpus(
      await encodeOggOpus(speech.samples, speech.sampleRate, { cancelled: false }),
    )
    const reference = resample(speech.samples, speech.sampleRate, 48000)
    // Align within ±2 ms (the codec's own delay is removed by the pre-skip).
    let lag = 0
    let best = Number.NEGATIVE_INFINITY
    for (let l = -96; l <= 96; l++) {
      let sum = 0
      for (let i = 4800; i < reference.length - 4800; i += 3) {
        sum += (reference[i] as number) * (decoded[i + l] ?? 0)
      }
      if (sum > best) {
        best = sum
        lag = l
      }
    }
    // SNR of each loud 20 ms frame. A perceptual codec is not waveform-exact; the encoder settings
    // chosen for speed measured about 14.7 dB on espeak-ng speech, the earlier VOIP setting 9.5 dB.
    const snr: number[] = []
    for (let start = 960; start + 1920 <= reference.length; start += 960) {
      let signal = 0
      let noise = 0
      for (let i = start; i < start + 960; i++) {
        const x = reference[i] as number
        signal += x * x
        noise += (x - (decoded[i + lag] ?? 0)) ** 2
      }
      if (signal > 960 * 1e6) snr.push(10 * Math.log10(signal / Math.max(noise, 1)))
    }
    snr.sort((a, b) => a - b)
    expect(snr.length).toBeGreaterThan(50)
    expect(snr[Math.floor(snr.length / 2)]).toBeGreaterThan(12)
  })

  it('stops at a cancellation check', async () => {
    const input = sine(22050, 3, 200, 4000)
    await expect(encodeOggOpus(input, 22050, { cancelled: true })).rejects.toThrow('cancelled')
  })
})

describe('muxOggOpus', () => {
  it('laces packets of 255 bytes and more, and splits pages at 255 segments', () => {
    const sizes = [10, 255, 256, 600, 1275, 3, 1]
    const packets = Array.from({ length: 120 }, (_, i) => {
      const packet = new Uint8Array(sizes[i % sizes.length] as number)
      packet.fill(i & 0xff)
      packet[0] = 0x08 // TOC: SILK NB 20 ms, mono, one frame
      return packet
    })
    const file = muxOggOpus({
      packets,
      frameSamples: 960,
      preSkip: 312,
      sampleCount: 120 * 960 - 500,
      inputSampleRate: 22050,
      serial: 0x12345678,
      vendor: 'test',
    })
    const parsed = checkOggOpus(file)
    expect(parsed.audioPackets.map((p) => p.length)).toEqual(packets.map((p) => p.length))
    expect(parsed.audioPackets[40]).toEqual(packets[40])
    expect(parsed.finalGranule).toBe(BigInt(312 + 120 * 960 - 500))
    expect(parsed.pages.length).toBeGreaterThan(4)
  })

  it('rejects a sample count the packets cannot hold', () => {
    expect(() =>
      muxOggOpus({
        packets: [new Uint8Array([8])],
        frameSamples: 960,
        preSkip: 312,
        sampleCount: 960,
        inputSampleRate: 48000,
        serial: 1,
        vendor: 'x',
      }),
    ).toThrow(RangeError)
  })
})
