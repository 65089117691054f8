import { convertToModelMessages, type UIMessage, validateUIMessages } from 'ai'
import { describe, expect, it } from 'vitest'
import { createChatStore } from '../../src/ai-sdk.js'
import { isMemoryError, type Memory, type MemoryOptions, memoryBackend } from '../../src/index.js'
import { testScratch } from '../helpers.js'
import { backendSetups } from './backend-setups.js'

const scratch = testScratch()

type ChatMessage = UIMessage<{ createdAt: string; model?: string }>

const user = (id: string, text: string): ChatMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text }],
  metadata: { createdAt: '2026-12-01T10:00:00.000Z' },
})

const assistant = (id: string, text: string): ChatMessage => ({
  id,
  role: 'assistant',
  metadata: { createdAt: '2026-12-01T10:00:01.000Z', model: 'local' },
  parts: [
    { type: 'step-start' },
    { type: 'reasoning', text: 'The user greets me.', state: 'done' },
    {
      type: 'tool-weather',
      toolCallId: `call-${id}`,
      state: 'output-available',
      input: { city: 'Roma', days: [1, 2] },
      output: { celsius: 21.5, sunny: true, note: null },
    },
    { type: 'text', text, state: 'done' },
    { type: 'source-url', sourceId: 's1', url: 'https://example.org/meteo', title: 'Meteo' },
    { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,iVBORw0KGgo=' },
    { type: 'data-weather', id: 'w1', data: { city: 'Roma', unicode: 'è ✓ 🚀' } },
  ],
})

const conversation = (): ChatMessage[] => [
  { id: 'sys', role: 'system', parts: [{ type: 'text', text: 'You are brief.' }] },
  user('u1', 'Ciao! Che tempo fa a Roma?'),
  assistant('a1', 'Sole, 21 gradi.'),
]

const setups = await backendSetups('chats')

describe.each(setups)('createChatStore on the $name backend', ({ options, reopens }) => {
  async function open(extra: MemoryOptions = {}): Promise<{ memory: Memory; dir: string }> {
    const dir = await scratch.fresh()
    return { memory: await scratch.open({ ...options(dir), ...extra }), dir }
  }

  it('reads back every part and the metadata of UIMessages exactly as saved', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const messages = conversation()
    const result = await chats.saveChat({ chatId: 'chat-1', messages })
    expect(result).toEqual({ added: 3, updated: 0, removed: 0, unchanged: 0, skipped: 0 })
    const loaded = await chats.loadChat('chat-1')
    expect(loaded).toStrictEqual(messages)
    expect(await chats.loadChat('unknown')).toEqual([])
  })

  it('gives the AI SDK messages that its own validation and conversion accept', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    await chats.saveChat({ chatId: 7, messages: conversation() })
    const loaded = await chats.loadChat(7)
    expect(await validateUIMessages<ChatMessage>({ messages: loaded })).toStrictEqual(loaded)
    const model = await convertToModelMessages(loaded)
    expect(model.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool'])
    expect(model[1]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'Ciao! Che tempo fa a Roma?' }],
    })
  })

  it('keeps the text as content, so history(), context() and token budgets see the chat', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const twoTexts: ChatMessage = {
      id: 'a2',
      role: 'assistant',
      parts: [
        { type: 'text', text: 'First.' },
        { type: 'reasoning', text: 'hidden' },
        { type: 'text', text: 'Second.' },
      ],
    }
    await chats.saveChat({ chatId: 'c', messages: [...conversation(), twoTexts] })
    expect(await memory.context('c')).toBe(
      'system: You are brief.\nuser: Ciao! Che tempo fa a Roma?\nassistant: Sole, 21 gradi.\nassistant: First.\nSecond.',
    )
    const [last] = await memory.history('c', { limit: 1 })
    expect(last).toMatchObject({
      id: 'a2',
      role: 'assistant',
      content: 'First.\nSecond.',
      uiMessage: twoTexts,
    })
    // A budget of the last two lines' characters picks exactly those two: it counts the text.
    const countTokens = (line: string) => line.length
    const maxTokens = 'assistant: Sole, 21 gradi.'.length + 'assistant: First.\nSecond.'.length
    const picked = await memory.history('c', { maxTokens, countTokens })
    expect(picked.map((message) => message.id)).toEqual(['a1', 'a2'])
  })

  it('writes nothing when the whole chat is saved again unchanged, and only the new messages after a turn', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const messages = conversation()
    await chats.saveChat({ chatId: 'c', messages })
    await memory.flush()
    const before = await memory.stats()
    expect(await chats.saveChat({ chatId: 'c', messages: conversation() })).toEqual({
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 3,
      skipped: 0,
    })
    await memory.flush()
    const after = await memory.stats()
    expect(after.saves).toBe(before.saves)
    expect(after.bytesWritten).toBe(before.bytesWritten)

    messages.push(user('u2', 'E domani?'), assistant('a2', 'Pioggia.'))
    expect(await chats.saveChat({ chatId: 'c', messages })).toMatchObject({ added: 2, unchanged: 3 })
    await memory.flush()
    const next = await memory.stats()
    expect(next.saves).toBe(after.saves + 1)
    const newBytes = Buffer.byteLength(JSON.stringify(messages.slice(3)))
    expect(next.bytesWritten - after.bytesWritten).toBeLessThan(3 * newBytes)
    expect(await chats.loadChat('c')).toStrictEqual(messages)
  })

  it('rewrites a message that changed in place, keeping its timestamp and position', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const messages = conversation()
    await chats.saveChat({ chatId: 'c', messages })
    const stamp = (await memory.history('c'))[1]?.timestamp
    const edited = { ...user('u1', 'Ciao! Che tempo fa a Milano?'), metadata: { createdAt: 'later' } }
    messages[1] = edited
    expect(await chats.saveChat({ chatId: 'c', messages })).toMatchObject({ updated: 1, unchanged: 2 })
    expect(await chats.loadChat('c')).toStrictEqual(messages)
    const stored = await memory.history('c')
    expect(stored[1]).toMatchObject({ id: 'u1', timestamp: stamp, content: 'Ciao! Che tempo fa a Milano?' })
  })

  it('removes a regenerated reply and the turns after an edited message', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const messages = [...conversation(), user('u2', 'E domani?'), assistant('a2', 'Pioggia.')]
    await chats.saveChat({ chatId: 'c', messages })
    // regenerate(): the last reply gets a new id.
    const regenerated = [...messages.slice(0, 4), assistant('a2b', 'Nuvoloso.')]
    expect(await chats.saveChat({ chatId: 'c', messages: regenerated })).toMatchObject({
      added: 1,
      removed: 1,
      unchanged: 4,
    })
    expect(await chats.loadChat('c')).toStrictEqual(regenerated)
    // sendMessage({ messageId }): the edited message replaces u1 and the turns after it go.
    const edited = [...messages.slice(0, 1), user('u1', 'Che ore sono?'), assistant('a3', 'Le dieci.')]
    expect(await chats.saveChat({ chatId: 'c', messages: edited })).toMatchObject({
      added: 1,
      updated: 1,
      removed: 3,
      unchanged: 1,
    })
    expect(await chats.loadChat('c')).toStrictEqual(edited)
    expect((await memory.history('c')).map((message) => message.id)).toEqual(['sys', 'u1', 'a3'])
  })

  it('sees a change made in place to a loaded message, which does not change the stored one', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    await chats.saveChat({ chatId: 'c', messages: conversation() })
    const loaded = await chats.loadChat('c')
    const part = loaded[2]?.parts[3]
    if (part?.type !== 'text') throw new Error('expected the text part')
    part.text = 'Changed in place.'
    expect((await chats.loadChat('c'))[2]).toStrictEqual(conversation()[2])
    expect(await chats.saveChat({ chatId: 'c', messages: loaded })).toMatchObject({
      updated: 1,
      unchanged: 2,
    })
    expect(await chats.loadChat('c')).toStrictEqual(loaded)
    expect(await memory.context('c', { limit: 1 })).toBe('assistant: Changed in place.')
  })

  it('follows the order of the chat when it differs from the stored one', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const [a, b, c] = conversation() as [ChatMessage, ChatMessage, ChatMessage]
    await chats.saveChat({ chatId: 'c', messages: [a, b, c] })
    const reordered = [a, c, user('u9', 'inserted'), b]
    expect(await chats.saveChat({ chatId: 'c', messages: reordered })).toMatchObject({
      added: 1,
      updated: 2,
      removed: 0,
      unchanged: 1,
    })
    expect(await chats.loadChat('c')).toStrictEqual(reordered)
    await chats.saveChat({ chatId: 'c', messages: [c, a] })
    expect(await chats.loadChat('c')).toStrictEqual([c, a])
  })

  it('does not write again the oldest messages that maxMessages dropped', async () => {
    const { memory } = await open({ maxMessages: 4 })
    const chats = createChatStore<ChatMessage>(memory)
    const messages = Array.from({ length: 6 }, (_, i) => user(`m${i}`, `message ${i}`))
    expect(await chats.saveChat({ chatId: 'c', messages })).toMatchObject({ added: 6 })
    expect(await chats.loadChat('c')).toStrictEqual(messages.slice(2))
    expect(await chats.saveChat({ chatId: 'c', messages })).toEqual({
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 4,
      skipped: 2,
    })
    messages.push(user('m6', 'message 6'))
    expect(await chats.saveChat({ chatId: 'c', messages })).toMatchObject({ added: 1, skipped: 2 })
    expect(await chats.loadChat('c')).toStrictEqual(messages.slice(3))
  })

  it('loads messages added by other means as one text part, and refuses roles a UIMessage cannot have', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    await memory.add('c', { role: 'user', content: 'from the Python bot', id: 'p1' })
    await chats.saveChat({ chatId: 'c', messages: [...(await chats.loadChat('c')), assistant('a1', 'Ciao')] })
    const loaded = await chats.loadChat('c')
    expect(loaded[0]).toStrictEqual({
      id: 'p1',
      role: 'user',
      parts: [{ type: 'text', text: 'from the Python bot' }],
    })
    // Saved back unchanged, the plain message is not rewritten.
    expect(await chats.saveChat({ chatId: 'c', messages: loaded })).toMatchObject({ unchanged: 2 })
    expect((await memory.history('c'))[0]).not.toHaveProperty('uiMessage')

    await memory.add('c', { role: 'tool', content: '{}', id: 't1' })
    const error = await chats.loadChat('c').catch((e: unknown) => e)
    expect(isMemoryError(error, 'unsupported')).toBe(true)
    expect((error as Error).message).toMatch(/message "t1" with role "tool"/)
  })

  it('runs concurrent saves of one chat one after another', async () => {
    const { memory } = await open()
    const chats = createChatStore<ChatMessage>(memory)
    const messages = conversation()
    const first = chats.saveChat({ chatId: 'c', messages: messages.slice(0, 2) })
    const second = chats.saveChat({ chatId: 'c', messages })
    const third = chats.saveChat({ chatId: 'c', messages })
    expect(await first).toMatchObject({ added: 2 })
    expect(await second).toMatchObject({ added: 1, unchanged: 2 })
    expect(await third).toMatchObject({ added: 0, unchanged: 3 })
    expect(await chats.loadChat('c')).toStrictEqual(messages)
  })

  it('saves in strict durability mode, every message durable when saveChat resolves', async () => {
    const { memory } = await open({ durability: 'strict' })
    const chats = createChatStore<ChatMessage>(memory)
    await chats.saveChat({ chatId: 'c', messages: conversation() })
    expect((await memory.stats()).pending).toBe(0)
    expect(await chats.loadChat('c')).toStrictEqual(conversation())
  })

  if (reopens) {
    it('reads the chat back after the store is closed and opened again', async () => {
      const dir = await scratch.fresh()
      const first = await scratch.open(options(dir))
      await createChatStore<ChatMessage>(first).saveChat({ chatId: 'c', messages: conversation() })
      await first.close()
      const second = await scratch.open(options(dir))
      const chats = createChatStore<ChatMessage>(second)
      expect(await chats.loadChat('c')).toStrictEqual(conversation())
      expect(await chats.saveChat({ chatId: 'c', messages: conversation() })).toMatchObject({ unchanged: 3 })
    })
  }
})

describe('createChatStore refuses bad input and writes nothing', () => {
  const bad: Array<[string, (valid: ChatMessage[]) => unknown, RegExp]> = [
    ['messages not an array', () => 'hello', /messages must be an array of UIMessage objects, got "hello"/],
    [
      'a message that is not an object',
      (v) => [...v, null],
      /messages\[3\] must be a UIMessage object, got null/,
    ],
    [
      'a message without an id',
      (v) => [...v, { role: 'user', parts: [] }],
      /messages\[3\]\.id must be a non-empty string, got undefined: every UIMessage needs the id/,
    ],
    [
      'an empty id',
      (v) => [...v, { ...user('', 'x') }],
      /messages\[3\]\.id must be a non-empty string, got ""/,
    ],
    [
      'a duplicate id',
      (v) => [...v, user('u1', 'again')],
      /messages\[3\]\.id "u1" is used by an earlier message/,
    ],
    [
      'an unknown role',
      (v) => [...v, { id: 'x', role: 'tool', parts: [] }],
      /messages\[3\]\.role must be 'system', 'user' or 'assistant', got "tool"/,
    ],
    [
      'parts not an array',
      (v) => [...v, { id: 'x', role: 'user', parts: 'hi' }],
      /messages\[3\]\.parts must be an array, got "hi"/,
    ],
    [
      'a part without a type',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ text: 'hi' }] }],
      /messages\[3\]\.parts\[0\] must be an object with a string type, got an object/,
    ],
    [
      'a Date in a part',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ type: 'data-when', data: { at: new Date(0) } }] }],
      /messages\[3\]\.parts\[0\]\.data\.at is a Date, not a plain object.*an ISO string/,
    ],
    [
      'NaN in the metadata',
      (v) => [...v, { ...user('x', 'hi'), metadata: { score: Number.NaN } }],
      /messages\[3\]\.metadata\.score is NaN, which JSON cannot hold/,
    ],
    [
      'a function in a tool input',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ type: 'data-f', data: { run: () => 1 } }] }],
      /messages\[3\]\.parts\[0\]\.data\.run is a function/,
    ],
    [
      'a bigint',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ type: 'data-n', data: 10n }] }],
      /messages\[3\]\.parts\[0\]\.data is a bigint \(10n\)/,
    ],
    [
      'a Map',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ type: 'data-m', data: new Map([[1, 2]]) }] }],
      /messages\[3\]\.parts\[0\]\.data is a Map, not a plain object/,
    ],
    [
      'a cycle',
      (v) => {
        const data: Record<string, unknown> = {}
        data.self = data
        return [...v, { id: 'x', role: 'user', parts: [{ type: 'data-c', data }] }]
      },
      /messages\[3\]\.parts\[0\]\.data\.self refers back to itself/,
    ],
    [
      'an undefined array item',
      (v) => [...v, { id: 'x', role: 'user', parts: [{ type: 'data-u', data: [1, undefined] }] }],
      /messages\[3\]\.parts\[0\]\.data\[1\] is undefined/,
    ],
  ]

  it.each(bad)('%s', async (_, make, message) => {
    const memory = await scratch.open({ backend: memoryBackend() })
    const chats = createChatStore<ChatMessage>(memory)
    const valid = conversation()
    await chats.saveChat({ chatId: 'c', messages: valid.slice(0, 2) })
    await memory.flush()
    const saves = (await memory.stats()).saves
    const error = await chats
      .saveChat({ chatId: 'c', messages: make(valid) as ChatMessage[] })
      .catch((e: unknown) => e)
    expect(isMemoryError(error, 'invalid-input')).toBe(true)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).toMatch(
      /^\[@taurobot\/memory\] cannot save chat "c": .*Nothing was written\.$/,
    )
    // The valid new message before the bad one was not written either.
    const stats = await memory.stats()
    expect(stats.pending).toBe(0)
    expect(stats.saves).toBe(saves)
    expect(await chats.loadChat('c')).toStrictEqual(valid.slice(0, 2))
  })

  it('accepts an undefined property, which reads back as missing', async () => {
    const memory = await scratch.open({ backend: memoryBackend() })
    const chats = createChatStore(memory)
    const message: UIMessage = {
      id: 'x',
      role: 'user',
      parts: [{ type: 'text', text: 'hi' }],
      metadata: undefined,
    }
    await chats.saveChat({ chatId: 'c', messages: [message] })
    expect(await chats.loadChat('c')).toStrictEqual([
      { id: 'x', role: 'user', parts: [{ type: 'text', text: 'hi' }] },
    ])
    expect(await chats.saveChat({ chatId: 'c', messages: [message] })).toMatchObject({ unchanged: 1 })
  })

  it('names the message that is too large, and says its text is stored twice', async () => {
    const memory = await scratch.open({ backend: memoryBackend(), maxMessageBytes: 4096 })
    const chats = createChatStore<ChatMessage>(memory)
    // 3,000 characters: under maxMessageBytes once, over it twice (content and parts).
    const messages = [user('u1', 'Ciao'), assistant('a1', 'x'.repeat(3000))]
    const error = await chats.saveChat({ chatId: 'big', messages }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(RangeError)
    expect((error as Error).message).toMatch(
      /^messages\[1\] \(id "a1"\): message is \d+ bytes once serialised, above maxMessageBytes \(4096\).*; a UIMessage holds its text twice/,
    )
    expect((error as Error).cause).toBeInstanceOf(RangeError)
  })

  it('refuses a bad chat id, bad options and a memory that is not a store', async () => {
    const memory = await scratch.open({ backend: memoryBackend() })
    const chats = createChatStore(memory)
    await expect(chats.saveChat({ chatId: '', messages: [] })).rejects.toThrow(
      /chatId must be a non-empty string or a finite number, got ""/,
    )
    await expect(chats.loadChat(Number.NaN)).rejects.toThrow(/chatId must be a finite number, got NaN/)
    await expect(chats.saveChat(undefined as never)).rejects.toThrow(
      /saveChat\(\) takes \{ chatId, messages \}, got undefined/,
    )
    expect(() => createChatStore({} as Memory)).toThrow(
      /memory must be a store returned by openMemory\(\), got an object/,
    )
    // A second argument is not an option it would silently ignore.
    expect(() => createChatStore(memory, { prefix: 'chat:' } as never)).toThrow(
      /createChatStore takes only the store, got a second argument \(an object\)/,
    )
    expect(() => createChatStore(memory, undefined)).not.toThrow()
  })
})
