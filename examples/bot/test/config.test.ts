import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'
import { RateLimiter } from '../src/rate-limit.js'

describe('loadConfig', () => {
  it('needs nothing: web chat on 3000, offline replies, files in ./memory', () => {
    const config = loadConfig({}, '/srv/bot')
    expect(config).toMatchObject({
      port: 3000,
      memoryDir: '/srv/bot/memory',
      memoryBackend: 'json',
      redisUrl: undefined,
      ollamaHost: undefined,
      telegramToken: undefined,
      voiceLanguage: 'en',
      rateLimitPerMinute: 20,
      voiceRateLimitPerMinute: 10,
      startupTimeoutSeconds: 30,
      http: {
        headersTimeoutSeconds: 10,
        requestTimeoutSeconds: 30,
        keepAliveTimeoutSeconds: 5,
        maxConnections: 100,
      },
    })
  })

  it('reads every variable', () => {
    const config = loadConfig(
      {
        PORT: '0',
        MEMORY_DIR: 'data',
        MEMORY_BACKEND: 'sqlite',
        REDIS_URL: 'redis://127.0.0.1:6379',
        OLLAMA_HOST: '127.0.0.1:11434',
        OLLAMA_MODEL: 'qwen2.5:0.5b',
        CONTEXT_MESSAGES: '6',
        TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
        VOICE_LANGUAGE: 'it',
        RATE_LIMIT_PER_MINUTE: '5',
        VOICE_RATE_LIMIT_PER_MINUTE: '2',
        STARTUP_TIMEOUT_SECONDS: '90',
        HTTP_HEADERS_TIMEOUT_SECONDS: '4',
        HTTP_REQUEST_TIMEOUT_SECONDS: '8',
        HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '2',
        HTTP_MAX_CONNECTIONS: '16',
      },
      '/srv/bot',
    )
    expect(config.port).toBe(0)
    expect(config.memoryDir).toBe('/srv/bot/data')
    expect(config.memoryBackend).toBe('sqlite')
    expect(config.ollamaHost?.href).toBe('http://127.0.0.1:11434/')
    expect(config.ollamaModel).toBe('qwen2.5:0.5b')
    expect(config.contextMessages).toBe(6)
    expect(config.telegramApiRoot).toBe('http://127.0.0.1:8081')
    expect(config.voiceLanguage).toBe('it')
    expect(config.rateLimitPerMinute).toBe(5)
    expect(config.voiceRateLimitPerMinute).toBe(2)
    expect(config.startupTimeoutSeconds).toBe(90)
    expect(config.http).toEqual({
      headersTimeoutSeconds: 4,
      requestTimeoutSeconds: 8,
      keepAliveTimeoutSeconds: 2,
      maxConnections: 16,
    })
  })

  it('names the variable and the value it cannot use', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(
      new ConfigError('PORT must be an integer from 0 to 65535, got "eighty"'),
    )
    expect(() => loadConfig({ PORT: '70000' })).toThrow(
      /PORT must be an integer from 0 to 65535, got "70000"/,
    )
    expect(() => loadConfig({ OLLAMA_HOST: 'ftp://x' })).toThrow(
      /OLLAMA_HOST must use http or https, got "ftp:\/\/x"/,
    )
    expect(() => loadConfig({ OLLAMA_HOST: 'http://u:p@host' })).toThrow(
      /OLLAMA_HOST must be a plain base URL/,
    )
    expect(() => loadConfig({ VOICE_LANGUAGE: 'english!' })).toThrow(/VOICE_LANGUAGE must be a language code/)
    // A locale as the system writes it is a tag @taurobot/voice takes.
    expect(loadConfig({ VOICE_LANGUAGE: 'it_IT' }).voiceLanguage).toBe('it_IT')
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(
      /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
    )
    expect(() => loadConfig({ MEMORY_BACKEND: 'redis' })).toThrow(
      new ConfigError(
        'MEMORY_BACKEND must be "json" or "sqlite", got "redis" (Redis is chosen by setting REDIS_URL)',
      ),
    )
    expect(() => loadConfig({ MEMORY_BACKEND: 'postgres' })).toThrow(
      new ConfigError('MEMORY_BACKEND must be "json" or "sqlite", got "postgres"'),
    )
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '0' })).toThrow(
      /RATE_LIMIT_PER_MINUTE must be an integer from 1/,
    )
    expect(() => loadConfig({ STARTUP_TIMEOUT_SECONDS: '0' })).toThrow(
      new ConfigError('STARTUP_TIMEOUT_SECONDS must be an integer from 1 to 3600, got "0"'),
    )
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '-1' })).toThrow(
      new ConfigError('HTTP_MAX_CONNECTIONS must be an integer from 1 to 100000, got "-1"'),
    )
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '30' }),
    ).toThrow(
      new ConfigError('HTTP_HEADERS_TIMEOUT_SECONDS (60) must not exceed HTTP_REQUEST_TIMEOUT_SECONDS (30)'),
    )
  })

  it('MEMORY_DIR: a folder or a file: URL; a URL of another kind and a file are refused, saying what to set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bot-config-'))
    try {
      expect(loadConfig({ MEMORY_DIR: pathToFileURL(join(dir, 'data')).href }, '/elsewhere').memoryDir).toBe(
        join(dir, 'data'),
      )
      for (const url of ['http://127.0.0.1:6379', 'redis://user:secret@127.0.0.1:6379']) {
        let message = ''
        try {
          loadConfig({ MEMORY_DIR: url }, dir)
        } catch (error) {
          message = (error as Error).message
        }
        expect(message).toBe(
          'MEMORY_DIR must be a folder, got a URL; to keep the conversations in Redis, set REDIS_URL instead',
        )
      }
      await mkdir(join(dir, 'memory'))
      await writeFile(join(dir, 'memory', 'conversations.json'), '{}')
      expect(() => loadConfig({ MEMORY_DIR: './memory/conversations.json' }, dir)).toThrow(
        new ConfigError(
          `MEMORY_DIR must be a folder, but ${JSON.stringify(join(dir, 'memory', 'conversations.json'))} is a file: set MEMORY_DIR to the folder that holds it, ${JSON.stringify(join(dir, 'memory'))}`,
        ),
      )
      // Nothing was made of either.
      expect(await readdir(dir)).toEqual(['memory'])
      expect(loadConfig({ MEMORY_DIR: './memory' }, dir).memoryDir).toBe(join(dir, 'memory'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('never echoes a malformed token', () => {
    let message = ''
    try {
      loadConfig({ TELEGRAM_BOT_TOKEN: 'secret-but-wrong' })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/TELEGRAM_BOT_TOKEN does not look like a bot token/)
    expect(message).not.toContain('secret-but-wrong')
  })
})

describe('RateLimiter', () => {
  it('allows `limit` messages per sliding window and says how long to wait', () => {
    let now = 1_000_000
    const limiter = new RateLimiter({ limit: 3, windowMs: 10_000, now: () => now })
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true])
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 10_000 })
    expect(limiter.take('b').allowed).toBe(true)
    now += 4_000
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 6_000 })
    now += 6_000
    expect(limiter.take('a').allowed).toBe(true)
  })

  it('forgets the least recently seen users beyond maxUsers', () => {
    const limiter = new RateLimiter({ limit: 1, maxUsers: 2, now: () => 0 })
    limiter.take('a')
    limiter.take('b')
    limiter.take('c')
    expect(limiter.take('a').allowed).toBe(true)
    expect(limiter.take('c').allowed).toBe(false)
  })

  it('rejects bad options with a RangeError naming them', () => {
    expect(() => new RateLimiter({ limit: 0 })).toThrow(
      new RangeError('limit must be a positive integer, got 0'),
    )
    expect(() => new RateLimiter({ limit: 1, windowMs: -1 })).toThrow(
      /windowMs must be a positive number, got -1/,
    )
  })
})
