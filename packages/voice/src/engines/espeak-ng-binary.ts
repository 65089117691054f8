import { spawn } from 'node:child_process'
import type { Engine, EngineAudio, EngineCancellation, EngineSpeechOptions } from '../engine.js'
import { EngineCancelledError } from '../engine.js'
import { VoiceError } from '../errors.js'
import { ESPEAK_RATE_RANGE } from '../espeak-voices.js'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** The program to run; `ESPEAK_NG_PATH` points at a binary outside the PATH. */
function program(): string {
  return process.env.ESPEAK_NG_PATH || 'espeak-ng'
}

function execute(args: string[], input: string, cancellation?: EngineCancellation): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Every stream is piped: the binary's warnings must never reach this process's stderr.
    const child = spawn(program(), args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      if (err.length < 4000) err += chunk
    })
    // The cancel flag lives in shared memory, so it has to be polled; the engine stays warm.
    const poll = cancellation
      ? setInterval(() => {
          if (cancellation.cancelled) child.kill('SIGKILL')
        }, 5)
      : undefined
    child.on('error', (error) => {
      if (poll) clearInterval(poll)
      reject(error)
    })
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll)
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err.trim() })
    })
    child.stdin.on('error', () => {}) // EPIPE when the binary exits before reading everything
    child.stdin.end(input)
  })
}

/** Finds the PCM in the WAV that `espeak-ng --stdout` writes (its size fields may be placeholders). */
function pcmFromWav(wav: Buffer): EngineAudio {
  if (
    wav.length < 44 ||
    wav.toString('latin1', 0, 4) !== 'RIFF' ||
    wav.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    throw new Error(`espeak-ng wrote ${wav.length} bytes that are not a WAV file`)
  }
  let offset = 12
  let sampleRate = 0
  while (offset + 8 <= wav.length) {
    const id = wav.toString('latin1', offset, offset + 4)
    const size = wav.readUInt32LE(offset + 4)
    const body = offset + 8
    if (id === 'fmt ') sampleRate = wav.readUInt32LE(body + 4)
    if (id === 'data') {
      const end = Math.min(wav.length, body + size)
      const bytes = wav.subarray(body, end - ((end - body) % 2))
      const samples = new Int16Array(bytes.length / 2)
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2)
      if (sampleRate === 0) throw new Error('espeak-ng wrote a WAV file without a fmt chunk')
      return { samples, sampleRate }
    }
    offset = body + size + (size % 2)
  }
  throw new Error('espeak-ng wrote a WAV file without a data chunk')
}

/** Drives a system `espeak-ng` binary, one short-lived process per task. */
export class EspeakNgBinaryEngine implements Engine {
  async init(): Promise<void> {
    let run: Run
    try {
      run = await execute(['--version'], '')
    } catch (cause) {
      throw new VoiceError(
        'engine-missing',
        `the "espeak-ng" engine needs the espeak-ng program, which was not found (${program()}). ` +
          'Install it (e.g. `apt-get install espeak-ng`) or set ESPEAK_NG_PATH.',
        { cause, details: { engine: 'espeak-ng', program: program() } },
      )
    }
    if (run.code !== 0) {
      throw new VoiceError('engine-missing', `"${program()} --version" failed with exit code ${run.code}.`, {
        details: { engine: 'espeak-ng', stderr: run.stderr },
      })
    }
  }

  async synthesize(
    text: string,
    options: EngineSpeechOptions,
    cancellation: EngineCancellation,
  ): Promise<EngineAudio> {
    const voice = options.voice === undefined ? options.language : `${options.language}+${options.voice}`
    const rate = Math.round(Math.min(ESPEAK_RATE_RANGE.max, Math.max(ESPEAK_RATE_RANGE.min, options.rate)))
    const args = [
      '--stdout',
      '-b',
      '1', // input is UTF-8
      '-v',
      voice,
      '-s',
      String(rate),
      '-a',
      String(Math.round(options.volume * 100)),
      '-p',
      String(Math.round(options.pitch * 0.99)),
    ]
    const run = await execute(args, text, cancellation)
    if (cancellation.cancelled) throw new EngineCancelledError()
    if (run.code !== 0 || run.stdout.length === 0) {
      throw new VoiceError(
        'engine-failed',
        `espeak-ng failed for language "${options.language}"${options.voice === undefined ? '' : ` and voice "${options.voice}"`} ` +
          `(exit code ${run.code}${run.stderr ? `: ${run.stderr}` : ''}).`,
        { details: { exitCode: run.code, stderr: run.stderr, voice } },
      )
    }
    return pcmFromWav(run.stdout)
  }
}
