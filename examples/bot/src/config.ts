import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Everything the bot reads from its environment, validated once at start-up. */
export interface BotConfig {
  /** Port of the web chat on 127.0.0.1; 0 picks a free one. */
  port: number
  /** Directory of the store's files (`conversations.json` and its journal, or `conversations.db`). */
  memoryDir: string
  /** `json`: the Python bot's `conversations.json`; `sqlite`: `conversations.db` (needs better-sqlite3). */
  memoryBackend: 'json' | 'sqlite'
  /** When set, conversations live in Redis instead of `memoryDir`. */
  redisUrl: string | undefined
  /** Prefix of the bot's keys in Redis, so several bots can share one server. */
  redisKeyPrefix: string
  /** Base URL of an Ollama server; the only host the bot ever talks to for replies. */
  ollamaHost: URL | undefined
  ollamaModel: string
  /** How many recent messages of a conversation a model sees as context. */
  contextMessages: number
  telegramToken: string | undefined
  telegramApiRoot: string | undefined
  voiceLanguage: string
  /** Chat messages one client address may send per minute, commands included. */
  rateLimitPerMinute: number
  /** Voice toggles (`POST /api/voice`) one client address may send per minute. */
  voiceRateLimitPerMinute: number
  /** How long start-up may take (Telegram's getMe included) before the bot gives up. */
  startupTimeoutSeconds: number
  /** Limits of the web server's connections, against slow or piled-up clients. */
  http: HttpLimits
}

/** The web server's timeouts (seconds) and connection cap. */
export interface HttpLimits {
  /** Time for a client to send a request's headers. */
  headersTimeoutSeconds: number
  /** Time for a client to send a whole request, body included. */
  requestTimeoutSeconds: number
  /** How long an idle kept-alive connection stays open. */
  keepAliveTimeoutSeconds: number
  /** Connections open at once; further ones are closed at once. */
  maxConnections: number
}

/** A setting that cannot be used as given; the message names the variable and the value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

type Env = Record<string, string | undefined>

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim()
  return raw === undefined || raw === '' ? undefined : raw
}

function httpUrl(name: string, raw: string): URL {
  let url: URL
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`)
  } catch {
    throw new ConfigError(
      `${name} must be an http(s) URL such as http://127.0.0.1:11434, got ${JSON.stringify(raw)}`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https, got ${JSON.stringify(raw)}`)
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      `${name} must be a plain base URL without credentials, query or fragment, got ${JSON.stringify(raw)}`,
    )
  }
  return url
}

/**
 * MEMORY_DIR as an absolute folder: a path (relative to `cwd`) or a file: URL. Any other URL is
 * refused, since it would become folders named after it (Redis is chosen with REDIS_URL), and so is
 * a file, the conversations file itself most often: the store would try to make a folder of it.
 */
function memoryDir(env: Env, cwd: string): string {
  const raw = text(env, 'MEMORY_DIR') ?? 'memory'
  let dir: string
  if (/^file:/i.test(raw)) {
    try {
      dir = fileURLToPath(raw)
    } catch {
      throw new ConfigError(`MEMORY_DIR must be a folder or a file: URL of one, got ${JSON.stringify(raw)}`)
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    // May hold a password (redis://user:secret@host): say what is expected without echoing it.
    throw new ConfigError(
      'MEMORY_DIR must be a folder, got a URL; to keep the conversations in Redis, set REDIS_URL instead',
    )
  } else {
    dir = resolve(cwd, raw)
  }
  let isFile = false
  try {
    isFile = !statSync(dir).isDirectory()
  } catch {
    // Missing (the store creates it) or unreadable (the store's own error names the cause).
  }
  if (isFile) {
    throw new ConfigError(
      `MEMORY_DIR must be a folder, but ${JSON.stringify(dir)} is a file: set MEMORY_DIR to the folder that holds it, ${JSON.stringify(dirname(dir))}`,
    )
  }
  return dir
}

/**
 * Reads the bot's settings from `env`. Nothing is required: with an empty environment the bot runs
 * the web chat on port 3000 with the offline responder and the file backend in `./memory`.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): BotConfig {
  const ollama = text(env, 'OLLAMA_HOST')
  const apiRoot = text(env, 'TELEGRAM_API_ROOT')
  const token = text(env, 'TELEGRAM_BOT_TOKEN')
  if (token !== undefined && !/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
    // The token itself is a secret: say what is wrong without echoing it.
    throw new ConfigError(
      'TELEGRAM_BOT_TOKEN does not look like a bot token ("123456:ABC..." from @BotFather)',
    )
  }
  const language = text(env, 'VOICE_LANGUAGE') ?? 'en'
  // The form @taurobot/voice takes (`it`, `it-IT`, and `it_IT` as locales are written); whether
  // espeak-ng has the language is its own check, at start-up, with the code probably meant.
  if (!/^[a-z]{2,3}([-_][a-z0-9]{1,8})*$/i.test(language)) {
    throw new ConfigError(
      `VOICE_LANGUAGE must be a language code such as "en" or "it", got ${JSON.stringify(language)}`,
    )
  }
  const redis = text(env, 'REDIS_URL')
  if (redis !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redis)) {
    // May hold a password: say what is expected without echoing it.
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379')
  }
  const backend = text(env, 'MEMORY_BACKEND') ?? 'json'
  if (backend !== 'json' && backend !== 'sqlite') {
    throw new ConfigError(
      `MEMORY_BACKEND must be "json" or "sqlite", got ${JSON.stringify(backend)}${backend === 'redis' ? ' (Redis is chosen by setting REDIS_URL)' : ''}`,
    )
  }
  const model = text(env, 'OLLAMA_MODEL') ?? 'llama3.2'
  if (!/^[\w.:/-]{1,200}$/.test(model)) {
    throw new ConfigError(
      `OLLAMA_MODEL must be a model name such as "llama3.2", got ${JSON.stringify(model)}`,
    )
  }
  const http: HttpLimits = {
    headersTimeoutSeconds: integer(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600),
    requestTimeoutSeconds: integer(env, 'HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    keepAliveTimeoutSeconds: integer(env, 'HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 5, 1, 3600),
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 100, 1, 100_000),
  }
  if (http.headersTimeoutSeconds > http.requestTimeoutSeconds) {
    // The headers are part of the request: Node refuses a longer wait for them than for all of it.
    throw new ConfigError(
      `HTTP_HEADERS_TIMEOUT_SECONDS (${http.headersTimeoutSeconds}) must not exceed HTTP_REQUEST_TIMEOUT_SECONDS (${http.requestTimeoutSeconds})`,
    )
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    memoryDir: memoryDir(env, cwd),
    memoryBackend: backend,
    redisUrl: redis,
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX') ?? 'taurobot:bot:',
    ollamaHost: ollama === undefined ? undefined : httpUrl('OLLAMA_HOST', ollama),
    ollamaModel: model,
    contextMessages: integer(env, 'CONTEXT_MESSAGES', 10, 1, 200),
    telegramToken: token,
    telegramApiRoot:
      apiRoot === undefined ? undefined : httpUrl('TELEGRAM_API_ROOT', apiRoot).href.replace(/\/$/, ''),
    voiceLanguage: language,
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 20, 1, 10_000),
    voiceRateLimitPerMinute: integer(env, 'VOICE_RATE_LIMIT_PER_MINUTE', 10, 1, 10_000),
    startupTimeoutSeconds: integer(env, 'STARTUP_TIMEOUT_SECONDS', 30, 1, 3600),
    http,
  }
}
