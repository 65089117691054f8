import { type Memory, memoryBackend, openMemory } from '@taurobot/memory'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_MESSAGE_CHARS, type ReplyTiming, spokenText, TauroBot } from '../src/core.js'
import { OfflineResponder } from '../src/responder/offline.js'

describe('TauroBot core', () => {
  let memory: Memory
  let bot: TauroBot

  beforeEach(async () => {
    memory = await openMemory({ backend: memoryBackend(), flushOnExit: false })
    bot = new TauroBot({ memory, responder: new OfflineResponder() })
  })
  afterEach(() => memory.close())

  it('answers /start and /help without storing them', async () => {
    const start = await bot.handle(42, '/start')
    expect(start.command).toBe('start')
    expect(start.text).toContain('Hi! I am TauroBot.')
    expect(start.text).toContain('offline mode')
    expect(start.text).toContain('/voice - turn spoken replies on or off')
    expect((await bot.handle(42, '/help@TauroBot')).text).toMatch(/^Commands:\n\/start/)
    expect(await memory.history(42)).toEqual([])
  })

  it('keeps the conversation in memory and uses it in the next reply', async () => {
    const first = await bot.handle(42, 'my name is Ada')
    expect(first.text).toContain('Nice to meet you, Ada!')
    expect(first.message).toMatchObject({ role: 'assistant', content: first.text })
    const second = await bot.handle(42, 'hello')
    expect(second.text).toContain('Hello again, Ada!')
    const stored = await memory.history(42)
    expect(stored.map((m) => [m.role, m.content.split('\n')[0]])).toEqual([
      ['user', 'my name is Ada'],
      ['assistant', '[offline mode: no language model is connected, so I can only remember, not think]'],
      ['user', 'hello'],
      ['assistant', '[offline mode: no language model is connected, so I can only remember, not think]'],
    ])
    expect(stored.every((m) => !Number.isNaN(Date.parse(m.timestamp ?? '')))).toBe(true)
  })

  it('answers messages of one conversation one at a time, in order', async () => {
    const replies = await Promise.all(['one', 'two', 'three'].map((t) => bot.handle('web-abc', t)))
    expect(replies.map((r) => r.text.split('\n')[1])).toEqual([
      'You said “one”.',
      'You said “two”.',
      'You said “three”.',
    ])
    const roles = (await memory.history('web-abc')).map((m) => `${m.role}:${m.content.split('\n')[0]}`)
    expect(roles.filter((r) => r.startsWith('user:'))).toEqual(['user:one', 'user:two', 'user:three'])
    expect(roles.map((r) => r.split(':')[0])).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ])
  })

  it('tells onReply how each reply went: front end, responder, outcome and times; commands are not replies', async () => {
    const timings: ReplyTiming[] = []
    const streaming = {
      name: 'model',
      contextMessages: 10,
      async reply({ onChunk }: { onChunk?: (text: string) => void }) {
        onChunk?.('Hel')
        onChunk?.('lo')
        return 'Hello'
      },
    }
    const timed = new TauroBot({ memory, responder: streaming, onReply: (t) => timings.push(t) })
    await timed.handle(7, '/help')
    await timed.handle(7, 'hi', { frontEnd: 'telegram' })
    await timed.handle(8, 'hi', { onChunk: () => {} })
    expect(timings.map(({ frontEnd, responder, outcome }) => [frontEnd, responder, outcome])).toEqual([
      ['telegram', 'model', 'ok'],
      ['web', 'model', 'ok'],
    ])
    expect(timings[0]?.firstChunkSeconds).toBeUndefined()
    const streamed = timings[1] as ReplyTiming
    expect(streamed.firstChunkSeconds).toBeGreaterThanOrEqual(0)
    expect(streamed.seconds).toBeGreaterThanOrEqual(streamed.firstChunkSeconds as number)

    const failing = new TauroBot({
      memory,
      responder: { ...streaming, reply: () => Promise.reject(new Error('model gone')) },
      onReply: (t) => timings.push(t),
    })
    await expect(failing.handle(9, 'hi')).rejects.toThrow('model gone')
    expect(timings[2]).toMatchObject({ frontEnd: 'web', responder: 'model', outcome: 'error' })
  })

  it('streams a reply into memory as it is generated: ended when complete, kept and marked when cut', async () => {
    const chunks = ['Hel', 'lo ', 'there']
    const responder = (fail: boolean, final?: string) => ({
      name: 'model',
      contextMessages: 10,
      async reply({ onChunk }: { onChunk?: (text: string) => void }) {
        for (const chunk of chunks) onChunk?.(chunk)
        if (fail) throw new Error('model gone')
        return final ?? chunks.join('')
      },
    })
    const streamed = new TauroBot({ memory, responder: responder(false) })
    const done = await streamed.handle(1, 'hi', { onChunk: () => {} })
    const [, stored] = await memory.history(1)
    expect(stored).toMatchObject({ role: 'assistant', content: 'Hello there', id: done.message?.id })
    expect(stored).not.toHaveProperty('unfinished')

    const cut = new TauroBot({ memory, responder: responder(true) })
    await expect(cut.handle(2, 'hi', { onChunk: () => {} })).rejects.toThrow('model gone')
    const [, partial] = await memory.history(2)
    expect(partial).toMatchObject({
      role: 'assistant',
      content: 'Hello there',
      unfinished: true,
      aborted: true,
      abortReason: 'model gone',
    })

    // A model that failed half-way answered by the offline responder: the stored reply is the final one.
    const replaced = new TauroBot({ memory, responder: responder(false, 'offline answer') })
    const final = await replaced.handle(3, 'hi', { onChunk: () => {} })
    const messages = await memory.history(3)
    expect(messages.map((m) => m.content)).toEqual(['hi', 'offline answer'])
    expect(messages[1]).not.toHaveProperty('unfinished')
    expect(final.message).toMatchObject({ content: 'offline answer' })
  })

  it('/clear forgets the conversation, /stats reports it', async () => {
    await bot.handle(7, 'remember this')
    const stats = await bot.handle(7, '/stats')
    expect(stats.text).toMatch(/^This conversation: 2 stored messages since \d{4}-/)
    expect(stats.text).toMatch(/\nMemory: backend memory, conversations \d+, messages \d+, .*pending \d+/)
    expect(stats.text).toContain('Replies: offline.')
    expect((await bot.handle(7, '/clear')).text).toBe('Done: I have forgotten this conversation.')
    expect(await memory.history(7)).toEqual([])
    expect((await bot.handle(7, '/clear')).text).toBe('There was nothing to forget.')
  })

  it('says so when voice is asked for but not available, and rejects unknown commands', async () => {
    expect((await bot.handle(1, '/voice')).text).toBe('Voice replies are not available on this server.')
    expect(bot.isVoiceOn(1)).toBe(false)
    const unknown = await bot.handle(1, '/dance')
    expect(unknown.text).toMatch(/^I do not know \/dance\./)
  })

  it('rejects bad input with a TypeError or RangeError naming the problem', () => {
    expect(() => bot.handle(1, 5 as unknown as string)).toThrow(
      new TypeError('text must be a string, got number'),
    )
    expect(() => bot.handle(1, '   ')).toThrow(new RangeError('text must not be empty'))
    expect(() => bot.handle(1, 'x'.repeat(MAX_MESSAGE_CHARS + 1))).toThrow(
      new RangeError(`text must be at most ${MAX_MESSAGE_CHARS} characters, got ${MAX_MESSAGE_CHARS + 1}`),
    )
    // Characters, not UTF-16 units: 4096 emoji are allowed.
    expect(() => bot.handle(1, '🐂'.repeat(MAX_MESSAGE_CHARS))).not.toThrow()
  })
})

describe('spokenText', () => {
  it('is the shown Markdown read by speechText, without the bracketed note, bounded in length', () => {
    expect(spokenText('[offline mode: x]\nYou said “hi”.\n• one')).toBe('You said “hi”. one.')
    expect(
      spokenText(
        '**Ciao!** Apri [la guida](https://example.com/guida):\n\n```sh\nrm -rf /\n```\n- `npm start`',
        'it',
      ),
    ).toBe('Ciao! Apri la guida: Codice omesso. npm start.')
    const long = spokenText('A short sentence. '.repeat(60))
    expect(long.length).toBeLessThanOrEqual(600)
    expect(long.endsWith('A short sentence.')).toBe(true)
    expect(spokenText('word '.repeat(400)).endsWith('word')).toBe(true)
  })
})
