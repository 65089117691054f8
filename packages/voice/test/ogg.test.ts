import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkOggOpus, samplesInPacket } from '../../../test/ogg-opus.js'
import { decodeOggOpus, loadVoice, rms } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
const scratch = mkdtempSync(join(tmpdir(), 'voice-ogg-'))
const hasOpusinfo = spawnSync('opusinfo', ['-V']).error === undefined

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

const sentence = 'Questa è una nota vocale per Telegram, codificata in Opus dentro un file Ogg.'

describe('Ogg/Opus output', () => {
  it('is a valid RFC 7845 stream: CRCs, OpusHead, OpusTags, granules, EOS, 20 ms mono frames', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const audio = await voice.synthesize(sentence)
    expect(audio.format).toBe('ogg')
    expect(audio.mimeType).toBe('audio/ogg')
    expect(audio.sampleRate).toBe(48000)
    const ogg = checkOggOpus(audio.data)
    expect(ogg.head).toMatchObject({ version: 1, channels: 1, inputSampleRate: 22050, gain: 0, family: 0 })
    expect(ogg.head.preSkip).toBeGreaterThan(0)
    expect(ogg.head.preSkip).toBeLessThan(960)
    expect(ogg.vendor.length).toBeGreaterThan(0)
    for (const packet of ogg.audioPackets) {
      expect(samplesInPacket(packet)).toBe(960)
      expect((packet[0] as number) & 0x04).toBe(0) // mono
    }
    // Playback length = final granule - pre-skip; it must equal the synthesized length (±20 ms).
    const playbackMs = (Number(ogg.finalGranule) - ogg.head.preSkip) / 48
    expect(Math.abs(playbackMs - audio.durationMs)).toBeLessThanOrEqual(20)
    // About 24 kbit/s of audio data.
    const payload = ogg.audioPackets.reduce((sum, p) => sum + p.length, 0)
    const kbps = (payload * 8) / audio.durationMs
    expect(kbps).toBeGreaterThan(12)
    expect(kbps).toBeLessThan(32)
  })

  it('decodes back to speech of the same length and level (libopus round trip)', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const [ogg, wav] = await Promise.all([
      voice.synthesize(sentence),
      voice.synthesize(sentence, { format: 'wav' }),
    ])
    const played = decodeOggOpus(ogg.data)
    expect(Math.abs(played.length / 48 - ogg.durationMs)).toBeLessThanOrEqual(20)
    const pcmLevel = rms(new Int16Array(wav.data.buffer.slice(wav.data.byteOffset + 44)))
    // Lossy coding changes the waveform, not the loudness: within a factor of 1.5.
    expect(rms(played)).toBeGreaterThan(pcmLevel / 1.5)
    expect(rms(played)).toBeLessThan(pcmLevel * 1.5)
  })

  it.skipIf(!hasOpusinfo)('passes opusinfo validation with the right playback length', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const path = await voice.textToSpeech(sentence, join(scratch, 'note.ogg'))
    const audioMs = checkAgainstFile(path)
    const out = execFileSync('opusinfo', [path], { encoding: 'utf8' })
    expect(out).not.toMatch(/warning|error|hole|corrupt/i)
    const match = /Playback length: (\d+)m:(\d+\.\d+)s/.exec(out)
    expect(match).not.toBeNull()
    const [, minutes, seconds] = match as RegExpExecArray
    const opusinfoMs = (Number(minutes) * 60 + Number(seconds)) * 1000
    expect(Math.abs(opusinfoMs - audioMs)).toBeLessThanOrEqual(20)
    expect(out).toContain('Channels: 1')
  })
})

function checkAgainstFile(path: string): number {
  const parsed = checkOggOpus(new Uint8Array(readFileSync(path)))
  return (Number(parsed.finalGranule) - parsed.head.preSkip) / 48
}
