import { afterEach, describe, expect, it } from 'vitest'
import { AutoResponder } from '../src/responder/auto.js'
import { OfflineResponder } from '../src/responder/offline.js'
import { OllamaResponder, probeOllama } from '../src/responder/ollama.js'
import type { ChatMessage } from '../src/responder/responder.js'
import { type FakeOllama, fakeOllama } from './fake-ollama.js'

const user = (content: string): ChatMessage => ({ role: 'user', content })
const bot = (content: string): ChatMessage => ({ role: 'assistant', content })

describe('OfflineResponder', () => {
  const offline = new OfflineResponder()

  it('says plainly that it is offline', async () => {
    const reply = await offline.reply({ history: [user('What is the capital of France?')] })
    expect(reply).toMatch(/^\[offline mode: no language model is connected/)
    expect(reply).toContain('You said “What is the capital of France?”')
  })

  it('recalls what the user said earlier, and their name', async () => {
    const history = [
      user('my name is Giulia'),
      bot('…'),
      user('I like trains'),
      bot('…'),
      user('what did I say?'),
    ]
    const reply = await offline.reply({ history })
    expect(reply).toContain('You have sent me 2 messages before this one')
    expect(reply).toContain('“my name is Giulia”')
    expect(reply).toContain('“I like trains”')
    const hello = await offline.reply({ history: [...history, bot('…'), user('hello')] })
    expect(hello).toContain('Hello again, Giulia!')
  })

  it('does not add a full stop after a quote that ends a sentence', async () => {
    const reply = await offline.reply({ history: [user('I like trains.'), bot('…'), user('Really!')] })
    expect(reply).toContain('You said “Really!”\nBefore that you said “I like trains.”')
    expect(reply).not.toContain('”.')
  })

  it('quotes the previous and the first message of a longer conversation', async () => {
    const reply = await offline.reply({
      history: [user('first one'), bot('…'), user('second one'), bot('…'), user('third')],
    })
    expect(reply).toContain(
      'Before that you said “second one”, and the first thing you told me was “first one”.',
    )
  })
})

describe('OllamaResponder', () => {
  let server: FakeOllama | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('streams a reply from /api/chat with the last messages as context', async () => {
    server = await fakeOllama(['llama3.2:latest'], () => ['Bonjour', ', ', 'Paris!'])
    const probe = await probeOllama(server.url, 'llama3.2')
    expect(probe).toEqual({ available: true, models: ['llama3.2:latest'], hasModel: true })
    const ollama = new OllamaResponder({ host: server.url, model: 'llama3.2', contextMessages: 2 })
    const chunks: string[] = []
    const history = [user('one'), bot('two'), user('three')]
    const reply = await ollama.reply({ history, onChunk: (c) => chunks.push(c) })
    expect(reply).toBe('Bonjour, Paris!')
    expect(chunks).toEqual(['Bonjour', ', ', 'Paris!'])
    const chat = server.requests.find((r) => r.path === '/api/chat')?.body as {
      model: string
      stream: boolean
      messages: ChatMessage[]
    }
    expect(chat.model).toBe('llama3.2')
    expect(chat.stream).toBe(true)
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user'])
    expect(chat.messages.slice(1).map((m) => m.content)).toEqual(['two', 'three'])
  })

  it('reports a server that does not answer, and a model that is not pulled', async () => {
    server = await fakeOllama(['mistral:latest'], () => ['x'])
    expect(await probeOllama(server.url, 'llama3.2')).toMatchObject({ available: true, hasModel: false })
    const url = server.url
    await server.close()
    server = undefined
    const probe = await probeOllama(url, 'llama3.2', 500)
    expect(probe.available).toBe(false)
  })
})

describe('AutoResponder', () => {
  it('uses the model while it answers and the offline responder once it is gone', async () => {
    const server = await fakeOllama(['llama3.2'], () => ['from the model'])
    const lines: string[] = []
    const auto = new AutoResponder(new OllamaResponder({ host: server.url, model: 'llama3.2' }), {
      log: (l) => lines.push(l),
      retryMs: 60_000,
    })
    await auto.start()
    expect(auto.name).toBe('ollama (llama3.2)')
    expect(await auto.reply({ history: [user('hi there')] })).toBe('from the model')
    await server.close()
    const reply = await auto.reply({ history: [user('still there?')] })
    expect(reply).toMatch(/^\[offline mode/)
    expect(auto.name).toBe('offline')
    expect(lines.at(-1)).toMatch(/offline responder \(Ollama at http:\/\/127\.0\.0\.1:\d+ unavailable/)
  })

  it('is offline from the start without a model server', async () => {
    const auto = new AutoResponder(undefined)
    await auto.start()
    expect(auto.name).toBe('offline')
    expect(await auto.reply({ history: [user('hi')] })).toMatch(/^\[offline mode/)
  })
})
