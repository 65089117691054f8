import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { checkOggOpus } from '../../../test/ogg-opus.js'
import type * as VoiceModule from '../src/index.js'

/** The built package directory. */
export const distDir = join(import.meta.dirname, '..', 'dist')
export const fixturesDir = join(import.meta.dirname, 'fixtures')

/** Loads the BUILT package, so the pool uses the real dist/worker.js. */
export async function loadVoice(): Promise<typeof VoiceModule> {
  return (await import(pathToFileURL(join(distDir, 'index.js')).href)) as typeof VoiceModule
}

export interface ParsedWav {
  sampleRate: number
  channels: number
  bitsPerSample: number
  samples: Int16Array
}

/** A strict little WAV reader: RIFF/WAVE, fmt with PCM, data chunk whose size matches the file. */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4))
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file')
  if (view.getUint32(4, true) !== bytes.length - 8) throw new Error('RIFF size does not match the file')
  let offset = 12
  let format: Omit<ParsedWav, 'samples'> | undefined
  while (offset + 8 <= bytes.length) {
    const id = ascii(offset)
    const size = view.getUint32(offset + 4, true)
    if (id === 'fmt ') {
      if (view.getUint16(offset + 8, true) !== 1) throw new Error('not PCM')
      format = {
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      }
    }
    if (id === 'data') {
      if (!format) throw new Error('data before fmt')
      if (offset + 8 + size !== bytes.length) throw new Error('data size does not match the file')
      const samples = new Int16Array(size / 2)
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(offset + 8 + i * 2, true)
      return { ...format, samples }
    }
    offset += 8 + size
  }
  throw new Error('no data chunk')
}

/** Root-mean-square level of 16-bit samples, 0..32768. */
export function rms(samples: Int16Array): number {
  let sum = 0
  for (const s of samples) sum += s * s
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length)
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8')
}

const OpusScript = createRequire(import.meta.url)('opusscript') as typeof import('opusscript')

/**
 * Checks an Ogg/Opus file and decodes it back to the 48 kHz samples a player plays: the pre-skip
 * dropped, cut at the final granule position.
 */
export function decodeOggOpus(file: Uint8Array): Int16Array {
  const parsed = checkOggOpus(file)
  const decoder = new OpusScript(48000, 1)
  const chunks = parsed.audioPackets.map((packet) => {
    const pcm = decoder.decode(Buffer.from(packet))
    return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length))
  })
  decoder.delete()
  const all = new Int16Array(chunks.reduce((sum, c) => sum + c.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    all.set(chunk, offset)
    offset += chunk.length
  }
  return all.slice(parsed.head.preSkip, Number(parsed.finalGranule))
}
