import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages'
import { describe, expect, it } from 'vitest'
import { isMemoryError, memoryBackend } from '../../src/index.js'
import { MemoryChatMessageHistory } from '../../src/langchain.js'
import { testScratch } from '../helpers.js'
import { backendSetups } from './backend-setups.js'

const scratch = testScratch()

const dialogue = (): BaseMessage[] => [
  new SystemMessage('You are brief.'),
  new HumanMessage({
    id: 'h1',
    content: [
      { type: 'text', text: 'What is in this picture, and the weather in Roma?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ],
  }),
  new AIMessage({
    content: '',
    tool_calls: [{ id: 'call-1', name: 'weather', args: { city: 'Roma' }, type: 'tool_call' }],
    response_metadata: { model: 'local' },
    usage_metadata: { input_tokens: 12, output_tokens: 5, total_tokens: 17 },
  }),
  new ToolMessage({
    content: '21 °C, sunny',
    tool_call_id: 'call-1',
    name: 'weather',
    artifact: { celsius: 21 },
  }),
  new AIMessage('A cat. Roma: 21 °C and sunny.'),
  new ChatMessage({ content: 'Well answered.', role: 'critic' }),
]

/** What a message is, for comparing: its class, and its serialised fields. */
const shape = (message: BaseMessage) => ({
  class: message.constructor.name,
  json: JSON.parse(JSON.stringify(message)),
})

const setups = await backendSetups('lc')

describe.each(setups)('MemoryChatMessageHistory on the $name backend', ({ options, reopens }) => {
  it('gives back every message as the class it was added as, with its tool calls, ids and metadata', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const history = new MemoryChatMessageHistory({ memory, conversationId: 'session-1' })
    expect(await history.getMessages()).toEqual([])
    await history.addMessages(dialogue())
    const messages = await history.getMessages()
    expect(messages.map(shape)).toEqual(dialogue().map(shape))
    const [, human, call, tool] = messages
    expect(human?.id).toBe('h1')
    expect((call as AIMessage).tool_calls).toEqual([
      { id: 'call-1', name: 'weather', args: { city: 'Roma' }, type: 'tool_call' },
    ])
    expect(tool).toBeInstanceOf(ToolMessage)
    expect((tool as ToolMessage).tool_call_id).toBe('call-1')
    expect((tool as ToolMessage).artifact).toEqual({ celsius: 21 })
  })

  it('stores roles and text the store reads: history(), context() and the message ids', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const history = new MemoryChatMessageHistory({ memory, conversationId: 42 })
    await history.addMessages(dialogue())
    expect(await memory.context(42)).toBe(
      [
        'system: You are brief.',
        'user: What is in this picture, and the weather in Roma?',
        'assistant: ',
        'tool: 21 °C, sunny',
        'assistant: A cat. Roma: 21 °C and sunny.',
        'critic: Well answered.',
      ].join('\n'),
    )
    const stored = await memory.history(42)
    expect(stored[1]).toMatchObject({ id: 'h1', role: 'user', langchain: { type: 'human' } })
    expect(stored[3]).toMatchObject({
      role: 'tool',
      langchain: { type: 'tool', data: { tool_call_id: 'call-1' } },
    })
  })

  it('adds with addMessage, addUserMessage and addAIMessage, and clears', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const history = new MemoryChatMessageHistory({ memory, conversationId: 'c' })
    await history.addUserMessage('Ciao!')
    await history.addAIMessage('Ciao, come posso aiutarti?')
    await history.addMessage(new SystemMessage('Be kind.'))
    const messages = await history.getMessages()
    expect(messages.map((message) => [message.constructor.name, message.text])).toEqual([
      ['HumanMessage', 'Ciao!'],
      ['AIMessage', 'Ciao, come posso aiutarti?'],
      ['SystemMessage', 'Be kind.'],
    ])
    await history.clear()
    expect(await history.getMessages()).toEqual([])
    expect(await memory.history('c')).toEqual([])
  })

  it('gives messages added by other means as the class of their role', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    for (const role of ['user', 'assistant', 'system', 'narrator']) {
      await memory.add('c', { role, content: `from ${role}`, id: `id-${role}` })
    }
    const messages = await new MemoryChatMessageHistory({ memory, conversationId: 'c' }).getMessages()
    expect(messages.map((message) => [message.constructor.name, message.text, message.id])).toEqual([
      ['HumanMessage', 'from user', 'id-user'],
      ['AIMessage', 'from assistant', 'id-assistant'],
      ['SystemMessage', 'from system', 'id-system'],
      ['ChatMessage', 'from narrator', 'id-narrator'],
    ])
    expect((messages[3] as ChatMessage).role).toBe('narrator')
  })

  it('does not let a change to a message read back change what the store holds', async () => {
    const memory = await scratch.open(options(await scratch.fresh()))
    const history = new MemoryChatMessageHistory({ memory, conversationId: 'c' })
    await history.addMessages(dialogue())
    const [, , call] = await history.getMessages()
    ;((call as AIMessage).tool_calls?.[0]?.args as Record<string, unknown>).city = 'Milano'
    const [, , again] = await history.getMessages()
    expect((again as AIMessage).tool_calls?.[0]?.args).toEqual({ city: 'Roma' })
  })

  if (reopens) {
    it('reads the history back after the store is closed and opened again', async () => {
      const dir = await scratch.fresh()
      const first = await scratch.open(options(dir))
      await new MemoryChatMessageHistory({ memory: first, conversationId: 's' }).addMessages(dialogue())
      await first.close()
      const second = await scratch.open(options(dir))
      const messages = await new MemoryChatMessageHistory({
        memory: second,
        conversationId: 's',
      }).getMessages()
      expect(messages.map(shape)).toEqual(dialogue().map(shape))
    })
  }
})

describe('MemoryChatMessageHistory refuses bad input and writes nothing', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an array', 'hello', /messages must be an array, got "hello"/],
    [
      'a plain object',
      [new HumanMessage('fine'), { role: 'user', content: 'x' }],
      /messages\[1\] must be a LangChain message \(HumanMessage, AIMessage\.\.\.\), got an object: use addUserMessage\(\)/,
    ],
    [
      'a Date in additional_kwargs',
      [new HumanMessage('fine'), new AIMessage({ content: 'x', additional_kwargs: { at: new Date(0) } })],
      /messages\[1\]\.additional_kwargs\.at is a Date, not a plain object/,
    ],
    [
      'NaN in response metadata',
      [new AIMessage({ content: 'x', response_metadata: { score: Number.NaN } })],
      /messages\[0\]\.response_metadata\.score is NaN/,
    ],
    [
      'a function in additional_kwargs',
      [new AIMessage({ content: 'x', additional_kwargs: { run: () => 1 } })],
      /messages\[0\]\.additional_kwargs\.run is a function/,
    ],
    [
      'a Map as a tool artifact',
      [new ToolMessage({ content: 'x', tool_call_id: 'c', artifact: new Map() })],
      /messages\[0\]\.artifact is a Map, not a plain object/,
    ],
    [
      'an id used twice',
      [new HumanMessage({ content: 'a', id: 'same' }), new AIMessage({ content: 'b', id: 'same' })],
      /messages\[1\]\.id "same" is used twice/,
    ],
  ]

  it.each(bad)('%s', async (_, messages, message) => {
    const memory = await scratch.open({ backend: memoryBackend() })
    const history = new MemoryChatMessageHistory({ memory, conversationId: 'c' })
    const error = await history.addMessages(messages as BaseMessage[]).catch((e: unknown) => e)
    expect(isMemoryError(error, 'invalid-input')).toBe(true)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).toMatch(
      /^\[@taurobot\/memory\] cannot add to conversation "c": .*Nothing was written\.$/,
    )
    expect(await memory.history('c')).toEqual([])
    expect((await memory.stats()).pending).toBe(0)
  })

  it('refuses bad fields up front', async () => {
    const memory = await scratch.open({ backend: memoryBackend() })
    expect(() => new MemoryChatMessageHistory({ memory, conversationId: '' })).toThrow(
      /conversationId must be a non-empty string or a finite number, got ""/,
    )
    expect(() => new MemoryChatMessageHistory({ memory: {} as never, conversationId: 'c' })).toThrow(
      /memory must be a store returned by openMemory\(\), got an object/,
    )
    expect(
      () => new MemoryChatMessageHistory({ memory, conversationId: 'c', sessionId: 'x' } as never),
    ).toThrow(/^unknown option "sessionId"; the options are /)
  })
})
