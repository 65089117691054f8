import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturesDir, loadVoice, parseWav } from './helpers.js'

const { VoiceSystem, voicePool } = await loadVoice()
type Voice = InstanceType<typeof VoiceSystem>
const echo = join(fixturesDir, 'echo-engine.mjs')
const faults = join(fixturesDir, 'fault-engine.mjs')

afterAll(async () => {
  await voicePool.close()
})

const reply = [
  '# Risposta',
  '',
  'Certo! Il Dott. Rossi riceve alle 9.30, e.g. domani. Vedi https://example.com/guida/v1.2?x=1. Poi chiama.',
  'Ecco i passi:',
  '1. Apri il file. Poi **salvalo. Subito**.',
  '2. Esegui `npm run build. Fatto` ora.',
  '',
  '```sh',
  'echo "Una frase nel codice. Altra."',
  '```',
  'Costa €3.50, [il sito. Bello](https://x.com/a. b) ok. Fine!',
].join('\n')

/** Yields `text` in deltas of the sizes `sizes` gives, a task turn apart as a network would. */
async function* deltas(text: string, sizes: () => number = () => text.length): AsyncGenerator<string> {
  for (let i = 0; i < text.length; ) {
    const size = sizes()
    await new Promise((resolve) => setImmediate(resolve))
    yield text.slice(i, i + size)
    i += size
  }
}

/** Yields `text` a word at a time, each with the spaces after it, as a chat model streams it. */
async function* words(text: string): AsyncGenerator<string> {
  for (const word of text.match(/\S+\s*/g) ?? []) {
    await new Promise((resolve) => setImmediate(resolve))
    yield word
  }
}

function randomSizes(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return 1 + (state % 9)
  }
}

/** What the echo engine was given for each clip, and the clip's own `text`. */
async function heard(voice: Voice, source: AsyncIterable<string> | ReadableStream<string>) {
  const clips: { engine: string; text: string }[] = []
  for await (const clip of voice.stream(source, { format: 'wav' })) {
    clips.push({ engine: String.fromCharCode(...parseWav(clip.data).samples), text: clip.text })
  }
  return clips
}

async function settledPool() {
  while (voicePool.stats().running + voicePool.stats().queued > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('voice.stream()', () => {
  it('gives the same clips for deltas of 1 character, of random sizes, and the whole text', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    const whole = await heard(voice, deltas(reply))
    expect(whole.length).toBeGreaterThanOrEqual(10)
    for (const clip of whole) expect(clip.engine).toBe(clip.text)
    expect(
      await heard(
        voice,
        deltas(reply, () => 1),
      ),
    ).toEqual(whole)
    for (const seed of [7, 99]) expect(await heard(voice, deltas(reply, randomSizes(seed)))).toEqual(whole)
    // The clips together say what synthesize() says for the whole reply.
    const all = await voice.synthesize(reply, { format: 'wav' })
    expect(whole.map((clip) => clip.text).join(' ')).toBe(String.fromCharCode(...parseWav(all.data).samples))
  })

  it("speaks the README's example with the Italian time as a time, not a decimal", async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    async function* readme() {
      yield 'Certo! Il Dott. Ros'
      yield 'si riceve alle 9.30 su **appuntam'
      yield 'ento**. A presto.'
    }
    expect((await heard(voice, readme())).map((clip) => clip.text)).toEqual([
      'Certo!',
      'Il Dott. Rossi riceve alle 9 e 30 su appuntamento.',
      'A presto.',
    ])
  })

  it('ends a sentence at a stop followed by emoji, in both emoji modes, however the reply arrives', async () => {
    const text = 'Great job! 🎉 See you tomorrow. 👋 Fatto! 👨‍👩‍👧 🇮🇹👍🏽 Bye.'
    for (const [emoji, expected] of [
      ['drop', ['Great job!', 'See you tomorrow.', 'Fatto!', 'Bye.']],
      [
        'name',
        [
          'Great job! Party popper.',
          'See you tomorrow. Waving hand.',
          'Fatto! Family, flag Italy, thumbs up.',
          'Bye.',
        ],
      ],
    ] as const) {
      const voice = new VoiceSystem({ engine: echo, language: 'en', emoji })
      const whole = await heard(voice, deltas(text))
      expect(whole.map((clip) => clip.text)).toEqual(expected)
      for (const clip of whole) expect(clip.engine).toBe(clip.text)
      expect(
        await heard(
          voice,
          deltas(text, () => 1),
        ),
      ).toEqual(whole)
      expect(await heard(voice, words(text))).toEqual(whole)
      for (const seed of [7, 99]) expect(await heard(voice, deltas(text, randomSizes(seed)))).toEqual(whole)
    }
  })

  it('yields one clip per sentence, in order, with the sentence it speaks', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    const clips = await heard(
      voice,
      deltas('**Sure!** Open https://example.com/guide. Then, Mr. Smith, call me. ✅'),
    )
    expect(clips.map((clip) => clip.text)).toEqual([
      'Sure!',
      'Open example.com.',
      'Then, Mr. Smith, call me.',
    ])
  })

  it('reads a ReadableStream of strings', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    const parts = ['Hello', ' there. How', ' are you?']
    const stream = new ReadableStream<string>({
      pull(controller) {
        const part = parts.shift()
        if (part === undefined) controller.close()
        else controller.enqueue(part)
      },
    })
    expect((await heard(voice, stream)).map((clip) => clip.text)).toEqual(['Hello there.', 'How are you?'])
  })

  it('cancels a ReadableStream source that is still open when the consumer stops', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    let cancelled = false
    const stream = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('First. Second ')
      },
      cancel() {
        cancelled = true
      },
    })
    for await (const clip of voice.stream(stream)) {
      expect(clip.text).toBe('First.')
      break
    }
    expect(cancelled).toBe(true)
  })

  it('speaks the text as given with input: "text"', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'it' })
    const texts: string[] = []
    for await (const clip of voice.stream(deltas('**Ciao!** Costa €3.50. Fine'), { input: 'text' })) {
      texts.push(clip.text)
    }
    expect(texts).toEqual(['**Ciao!**', 'Costa €3.50.', 'Fine'])
  })

  it('reads the source only as far as readAhead sentences ahead of the consumer', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    let read = 0
    async function* many() {
      for (let i = 0; i < 200; i++) {
        read++
        yield `Sentence number ${i}. `
      }
    }
    const clips = voice.stream(many(), { readAhead: 2 })
    const first = await clips.next()
    expect(first.done).toBe(false)
    // The first clip, two ahead of the consumer, one sentence waiting for its end, one read more.
    expect(read).toBeLessThanOrEqual(5)
    await clips.return()
    await settledPool()
  })

  it('stops at an abort, cancelling and settling every started sentence', async () => {
    const voice = new VoiceSystem({ engine: faults, language: 'en' })
    const controller = new AbortController()
    async function* source() {
      yield 'slow:30000\n\nslow:30000\n\n'
      // A reply that stalls: only the abort ends the wait for it.
      await new Promise(() => {})
    }
    const cancelledBefore = voicePool.stats().cancelled
    const clips = voice.stream(source(), { input: 'text', signal: controller.signal })
    const next = clips.next()
    while (voicePool.stats().running + voicePool.stats().queued < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(next).rejects.toBe(reason)
    expect(voicePool.stats().cancelled - cancelledBefore).toBe(2)
    expect(voicePool.stats().queued).toBe(0)
    expect(await clips.next()).toEqual({ done: true, value: undefined })
    await settledPool()
  })

  it('cancels started sentences and stops the source when the consumer breaks out early', async () => {
    const voice = new VoiceSystem({ engine: faults, language: 'en' })
    let stopped = false
    async function* source() {
      try {
        yield 'ok\n\nslow:30000\n\nslow:30000\n\n'
        yield 'more\n\n'
      } finally {
        stopped = true
      }
    }
    const cancelledBefore = voicePool.stats().cancelled
    let clips = 0
    // readAhead 3: the three sentences of the first delta are all started before the first is yielded.
    for await (const _ of voice.stream(source(), { input: 'text', readAhead: 3 })) {
      clips++
      break
    }
    expect(clips).toBe(1)
    expect(stopped).toBe(true)
    expect(voicePool.stats().cancelled - cancelledBefore).toBe(2)
    expect(voicePool.stats().queued).toBe(0)
    await settledPool()
  })

  it('yields the sentences a failing source completed, then throws its error', async () => {
    const voice = new VoiceSystem({ engine: echo, language: 'en' })
    const failure = new Error('connection reset')
    async function* source() {
      yield 'One. Two. Thr'
      throw failure
    }
    const texts: string[] = []
    const error = await (async () => {
      for await (const clip of voice.stream(source())) texts.push(clip.text)
    })().catch((e: unknown) => e)
    expect(error).toBe(failure)
    expect(texts).toEqual(['One.', 'Two.'])
  })

  it('fails with the engine’s error and cancels the rest', async () => {
    const voice = new VoiceSystem({ engine: faults, language: 'en' })
    const clips = voice.stream(deltas('throw\n\nslow:30000\n\n'), { input: 'text' })
    await expect(clips.next()).rejects.toThrow('engine refused "throw"')
    expect(voicePool.stats().queued).toBe(0)
    await settledPool()
  })

  it('rejects bad arguments with errors naming them', async () => {
    const voice = new VoiceSystem({ engine: echo })
    const stream = voice.stream.bind(voice) as (source: unknown, options?: unknown) => unknown
    expect(() => stream(42)).toThrow(
      new TypeError(
        'source must be an AsyncIterable<string> or a ReadableStream<string> of text deltas, got number.',
      ),
    )
    expect(() => stream('Hello.')).toThrow(
      /source must be .*got a string\. For a whole text, use synthesize\(\)/,
    )
    expect(() => stream(['Hello.'])).toThrow(/got Array\. For an array of deltas/)
    expect(() => stream(deltas('a'), null)).toThrow(
      new TypeError('stream() options must be an object, got null'),
    )
    expect(() => stream(deltas('a'), { readahead: 2 })).toThrow(TypeError)
    expect(() => stream(deltas('a'), { readahead: 2 })).toThrow(/unknown option "readahead".*readAhead/)
    expect(() => stream(deltas('a'), { format: 'mp3' })).toThrow(
      new RangeError('format must be "ogg" or "wav", got "mp3"'),
    )
    expect(() => stream(deltas('a'), { input: 'html' })).toThrow(/input must be "markdown" or "text"/)
    expect(() => stream(deltas('a'), { readAhead: 0 })).toThrow(
      new RangeError('readAhead must be a positive integer, got 0'),
    )
    expect(() => stream(deltas('a'), { readAhead: 0 })).toThrow(RangeError)
    // A wrong type is a TypeError, not a RangeError.
    expect(() => stream(deltas('a'), { readAhead: '2' })).toThrow(TypeError)
    expect(() => stream(deltas('a'), { format: 1 })).toThrow(TypeError)
    expect(() => stream(deltas('a'), { input: true })).toThrow(TypeError)
    expect(() => stream(deltas('a'), { timeoutMs: '100' })).toThrow(TypeError)
    expect(() => stream(deltas('a'), { signal: 'stop' })).toThrow(/signal must be an AbortSignal/)
    expect(() => stream(deltas('a'), { timeoutMs: -1 })).toThrow(/timeoutMs must be a positive number/)
    const locked = new ReadableStream<string>()
    locked.getReader()
    expect(() => stream(locked)).toThrow(/got a locked one/)
    async function* numbers() {
      yield 'Hello. '
      yield 42 as unknown as string
    }
    await expect(voice.stream(numbers()).next()).rejects.toThrow(
      new TypeError('source must yield strings, got number. Pass the text deltas of the reply.'),
    )
  })

  it('speaks a streamed reply with the real engine', async () => {
    const voice = new VoiceSystem({ language: 'it' })
    const clips = []
    for await (const clip of voice.stream(
      deltas('Ciao! Come stai oggi?', () => 3),
      { format: 'ogg' },
    )) {
      clips.push(clip)
    }
    expect(clips.map((clip) => clip.text)).toEqual(['Ciao!', 'Come stai oggi?'])
    for (const clip of clips) {
      expect(clip.mimeType).toBe('audio/ogg')
      expect(String.fromCharCode(...clip.data.subarray(0, 4))).toBe('OggS')
      expect(clip.durationMs).toBeGreaterThan(200)
    }
  })
})
