import { Bot, BotError, type Context, type SessionFlavor, session } from 'grammy'
import type { Update, UserFromGetMe } from 'grammy/types'
import { describe, expect, it } from 'vitest'
import { createSessionStorage } from '../../src/grammy.js'
import { isMemoryError, type Memory, memoryBackend } from '../../src/index.js'
import { testScratch } from '../helpers.js'
import { backendSetups } from './backend-setups.js'

const scratch = testScratch()

interface Counter {
  count: number
  words: string[]
}
type CounterContext = Context & SessionFlavor<Counter>

// Given to the Bot, so that it never calls getMe: these tests make no network request.
const botInfo: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: 'Test',
  username: 'test_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
}

let updateId = 0
function textUpdate(chatId: number, text: string): Update {
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: 1_764_000_000,
      chat: { id: chatId, type: 'private', first_name: 'Ada' },
      from: { id: chatId, is_bot: false, first_name: 'Ada' },
      text,
      // grammY's command() matches a bot_command entity, as Telegram sends it.
      ...(text.startsWith('/')
        ? { entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }] }
        : {}),
    },
  }
}

/** A bot whose handler counts messages in the session; `/forget` deletes it; it never replies. */
function counterBot(memory: Memory, prefix?: string): Bot<CounterContext> {
  const bot = new Bot<CounterContext>('0:test-token', { botInfo })
  const storage = createSessionStorage<Counter>(memory, prefix === undefined ? {} : { prefix })
  bot.use(session({ initial: (): Counter => ({ count: 0, words: [] }), storage }))
  bot.command('forget', (ctx) => {
    ctx.session = null as unknown as Counter
  })
  bot.command('date', (ctx) => {
    ;(ctx.session as unknown as { when: Date }).when = new Date(0)
  })
  bot.on('message:text', (ctx) => {
    ctx.session.count++
    ctx.session.words.push(ctx.message.text)
  })
  return bot
}

const setups = await backendSetups('sessions')

describe.each(setups)('createSessionStorage on the $name backend', ({ options, reopens }) => {
  it("keeps each chat's session across updates through grammY's session()", async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const bot = counterBot(memory)
    await bot.handleUpdate(textUpdate(42, 'uno'))
    await bot.handleUpdate(textUpdate(42, 'due'))
    await bot.handleUpdate(textUpdate(7, 'tre'))
    const storage = createSessionStorage<Counter>(memory)
    expect(await storage.read('42')).toEqual({ count: 2, words: ['uno', 'due'] })
    expect(await storage.read('7')).toEqual({ count: 1, words: ['tre'] })
    expect(await storage.read('8')).toBeUndefined()
    // One message per session, replaced in place.
    expect(await memory.history('session:42')).toEqual([
      expect.objectContaining({
        id: 'session',
        role: 'session',
        content: '',
        value: { count: 2, words: ['uno', 'due'] },
      }),
    ])
  })

  it('deletes the session when a handler sets it to null, and lists keys, values and entries', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const bot = counterBot(memory)
    for (const chat of [1, 2, 3]) await bot.handleUpdate(textUpdate(chat, `chat ${chat}`))
    await memory.add('chat-history', { role: 'user', content: 'not a session' })
    const storage = createSessionStorage<Counter>(memory)
    expect(await storage.has('2')).toBe(true)
    await bot.handleUpdate(textUpdate(2, '/forget'))
    expect(await storage.has('2')).toBe(false)
    expect(await storage.read('2')).toBeUndefined()
    expect(await memory.history('session:2')).toEqual([])

    const keys: string[] = []
    for await (const key of storage.readAllKeys()) keys.push(key)
    expect(keys.sort()).toEqual(['1', '3'])
    const values: Counter[] = []
    for await (const value of storage.readAllValues()) values.push(value)
    expect(values.map((value) => value.words[0]).sort()).toEqual(['chat 1', 'chat 3'])
    const entries: Array<[string, Counter]> = []
    for await (const entry of storage.readAllEntries()) entries.push(entry)
    expect(Object.fromEntries(entries)).toEqual({
      '1': { count: 1, words: ['chat 1'] },
      '3': { count: 1, words: ['chat 3'] },
    })
    await storage.delete('3')
    await storage.delete('never-there')
    expect(await storage.has('3')).toBe(false)
  })

  it('does not write a session read and left unchanged', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const bot = new Bot<CounterContext>('0:test-token', { botInfo })
    bot.use(
      session({ initial: (): Counter => ({ count: 0, words: [] }), storage: createSessionStorage(memory) }),
    )
    bot.on('message:text', (ctx) => {
      if (ctx.message.text === 'count') ctx.session.count++
      else void ctx.session.count
    })
    await bot.handleUpdate(textUpdate(5, 'count'))
    await memory.flush()
    const { saves, bytesWritten } = await memory.stats()
    for (let i = 0; i < 3; i++) await bot.handleUpdate(textUpdate(5, 'look'))
    await memory.flush()
    expect(await memory.stats()).toMatchObject({ saves, bytesWritten })
    await bot.handleUpdate(textUpdate(5, 'count'))
    await memory.flush()
    expect((await memory.stats()).saves).toBe(saves + 1)
    expect(await createSessionStorage<Counter>(memory).read('5')).toEqual({ count: 2, words: [] })
  })

  it('refuses a session that is not JSON, through the bot and directly, and writes nothing', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const bot = counterBot(memory)
    await bot.handleUpdate(textUpdate(9, 'uno'))
    await memory.flush()
    const { saves } = await memory.stats()
    const error = await bot.handleUpdate(textUpdate(9, '/date')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BotError)
    const cause = (error as BotError).error
    expect(isMemoryError(cause, 'invalid-input')).toBe(true)
    expect((cause as Error).message).toMatch(
      /^\[@taurobot\/memory\] cannot write session "9": the value\.when is a Date, not a plain object.*nothing was written\.$/,
    )
    const storage = createSessionStorage<unknown>(memory)
    expect(await storage.read('9')).toEqual({ count: 1, words: ['uno'] })

    const bad: Array<[unknown, RegExp]> = [
      [undefined, /cannot write session "9": it is undefined/],
      [{ n: Number.POSITIVE_INFINITY }, /the value\.n is Infinity, which JSON cannot hold/],
      [{ big: 1n }, /the value\.big is a bigint \(1n\)/],
      [new Set([1]), /the value is a Set, not a plain object/],
      [{ list: [() => 0] }, /the value\.list\[0\] is a function/],
    ]
    for (const [value, message] of bad) {
      const failure = await storage.write('9', value).catch((e: unknown) => e)
      expect(isMemoryError(failure, 'invalid-input')).toBe(true)
      expect((failure as Error).message).toMatch(message)
    }
    expect(await memory.stats()).toMatchObject({ pending: 0, saves })
    expect(await storage.read('9')).toEqual({ count: 1, words: ['uno'] })
  })

  it('keeps sessions under a prefix of their own, and refuses a conversation that holds other messages', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    await counterBot(memory, 'bot-a/').handleUpdate(textUpdate(1, 'a'))
    await counterBot(memory, '').handleUpdate(textUpdate(1, 'b'))
    expect(await createSessionStorage<Counter>(memory, { prefix: 'bot-a/' }).read('1')).toMatchObject({
      words: ['a'],
    })
    expect(await createSessionStorage<Counter>(memory, { prefix: '' }).read('1')).toMatchObject({
      words: ['b'],
    })

    await memory.add('session:77', { role: 'user', content: 'a chat message' })
    const error = await createSessionStorage(memory)
      .read('77')
      .catch((e: unknown) => e)
    expect(isMemoryError(error, 'unsupported')).toBe(true)
    expect((error as Error).message).toMatch(
      /conversation "session:77" holds a message that is not a grammY session/,
    )
  })

  if (reopens) {
    it('keeps sessions across a close and a reopen of the store', async () => {
      const dir = await scratch.fresh()
      const first = await scratch.open(options(dir))
      const bot = counterBot(first)
      await bot.handleUpdate(textUpdate(42, 'prima'))
      await bot.handleUpdate(textUpdate(42, 'seconda'))
      await first.close()

      const second = await scratch.open(options(dir))
      const again = counterBot(second)
      await again.handleUpdate(textUpdate(42, 'dopo'))
      expect(await createSessionStorage<Counter>(second).read('42')).toEqual({
        count: 3,
        words: ['prima', 'seconda', 'dopo'],
      })
    })
  }
})

it('refuses bad options, keys and stores up front', async () => {
  const memory = await scratch.open({ backend: memoryBackend() })
  expect(() => createSessionStorage(memory, { prefx: 'a' } as never)).toThrow(
    /^unknown option "prefx": did you mean prefix\?$/,
  )
  expect(() => createSessionStorage(memory, { prefix: 1 } as never)).toThrow(/prefix must be a string, got 1/)
  expect(() => createSessionStorage({} as Memory)).toThrow(
    /memory must be a store returned by openMemory\(\)/,
  )
  const bare = createSessionStorage(memory, { prefix: '' })
  await expect(bare.read('')).rejects.toThrow(/session key must be a non-empty string, got ""/)
  await expect(bare.write(5 as never, {})).rejects.toThrow(/session key must be a non-empty string, got 5/)
})
