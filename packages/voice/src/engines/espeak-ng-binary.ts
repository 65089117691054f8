import { type ChildProcess, spawn } from 'node:child_process'
import type { Engine, EngineAudio, EngineCancellation, EngineSpeechOptions } from '../engine.js'
import { EngineCancelledError } from '../engine.js'
import { VoiceError } from '../errors.js'
import { ESPEAK_RATE_RANGE } from '../espeak-voices.js'
import { espeakText } from './espeak-text.js'

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

interface Started {
  child: ChildProcess
  /** Settles when the process has exited and its output is read; never rejects. */
  done: Promise<Run | { error: Error }>
  /** False once the process has exited or failed to start. */
  alive: boolean
}

function start(args: string[]): Started {
  // Every stream is piped: the binary's warnings must never reach this process's stderr.
  const child = spawn(program(), args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let err = ''
  const started: Started = { child, done: Promise.resolve({ error: new Error('not started') }), alive: true }
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    if (err.length < 4000) err += chunk
  })
  child.stdin.on('error', () => {}) // EPIPE when the binary exits before reading everything
  started.done = new Promise((resolve) => {
    child.on('error', (error) => {
      started.alive = false
      resolve({ error })
    })
    child.on('exit', () => {
      started.alive = false
    })
    child.on('close', (code, signal) => {
      started.alive = false
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err.trim() })
    })
  })
  return started
}

/** Lets a started process idle without keeping the thread's event loop alive. */
function setRef(started: Started, ref: boolean): void {
  const { child } = started
  for (const handle of [child, child.stdin, child.stdout, child.stderr]) {
    const refable = handle as { ref?: () => void; unref?: () => void } | null
    if (ref) refable?.ref?.()
    else refable?.unref?.()
  }
}

async function finish(started: Started, input: string, cancellation?: EngineCancellation): Promise<Run> {
  // The cancel flag lives in shared memory, so it has to be polled; the engine stays warm.
  const poll = cancellation
    ? setInterval(() => {
        if (cancellation.cancelled) started.child.kill('SIGKILL')
      }, 5)
    : undefined
  try {
    started.child.stdin?.end(input)
    const run = await started.done
    if ('error' in run) throw run.error
    return run
  } finally {
    if (poll) clearInterval(poll)
  }
}

function execute(args: string[], input: string, cancellation?: EngineCancellation): Promise<Run> {
  return finish(start(args), input, cancellation)
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
      // One copy into an aligned buffer; Int16Array reads little-endian on every platform Node runs on.
      const samples = new Int16Array(bytes.length / 2)
      new Uint8Array(samples.buffer).set(bytes)
      if (sampleRate === 0) throw new Error('espeak-ng wrote a WAV file without a fmt chunk')
      return { samples, sampleRate }
    }
    offset = body + size + (size % 2)
  }
  throw new Error('espeak-ng wrote a WAV file without a data chunk')
}

/**
 * Drives a system `espeak-ng` binary, one short-lived process per task. Most of a short sentence's
 * time is the program starting and loading its voice data, so after each task the engine starts
 * the next process with the same settings, and it waits on its input: the next task with those
 * settings only writes its text. A process left waiting ends by itself when the thread or the
 * process goes away, as its input then closes.
 */
export class EspeakNgBinaryEngine implements Engine {
  // Native code: the first sentence is as fast as the later ones, once the OS has cached the data.
  readonly warmupRuns = 1
  #spare: { key: string; started: Started } | undefined

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
    const key = args.join('\0')
    const input = espeakText(text)
    let run = await this.#take(key, args, input, cancellation)
    if (run === undefined) run = await execute(args, input, cancellation)
    if (cancellation.cancelled) throw new EngineCancelledError()
    // After the audio, not sooner: a process loading its data while this one speaks competes with
    // it for the CPU (measured slower). Not later either: between tasks a pool thread is blocked
    // waiting for the next one, so nothing scheduled for then would run.
    if (run.code === 0) this.#prepare(key, args)
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

  /** Runs the text on the waiting process if it has these settings; undefined if there is none. */
  async #take(
    key: string,
    args: string[],
    text: string,
    cancellation: EngineCancellation,
  ): Promise<Run | undefined> {
    const spare = this.#spare
    this.#spare = undefined
    if (spare === undefined) return undefined
    if (spare.key !== key || !spare.started.alive) {
      spare.started.child.kill('SIGKILL')
      return undefined
    }
    setRef(spare.started, true)
    try {
      const run = await finish(spare.started, text, cancellation)
      // A waiting process that died on its own (killed from outside, say) gets one fresh retry.
      if (run.code !== 0 && !cancellation.cancelled) return execute(args, text, cancellation)
      return run
    } catch {
      if (cancellation.cancelled) throw new EngineCancelledError()
      return execute(args, text, cancellation)
    }
  }

  #prepare(key: string, args: string[]): void {
    try {
      const started = start(args)
      setRef(started, false)
      void started.done.then(() => {
        if (this.#spare?.started === started) this.#spare = undefined
      })
      this.#spare = { key, started }
    } catch {
      // Out of processes or descriptors: the next task simply starts its own.
      this.#spare = undefined
    }
  }
}
