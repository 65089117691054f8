import { join } from 'node:path'
import { openMemory } from '@taurobot/memory'
import { registerMemoryMetrics } from '@taurobot/memory/metrics'
import { redisBackend } from '@taurobot/memory/redis'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { registerVoiceMetrics } from '@taurobot/voice/metrics'
import { type BotConfig, ConfigError } from './config.js'
import { describeFigures, TauroBot } from './core.js'
import { consoleLog, type Log } from './log.js'
import { BotMetrics } from './metrics.js'
import { RateLimiter } from './rate-limit.js'
import { redactor, secretsOf } from './redact.js'
import { AutoResponder } from './responder/auto.js'
import { OllamaResponder } from './responder/ollama.js'
import { otherStoreHint } from './store-hint.js'
import { startTelegram, type TelegramFrontEnd } from './telegram.js'
import { buildAssets } from './web/assets.js'
import { startWebServer, type WebServer } from './web/server.js'

/** A running bot: its front ends and the one way to stop it. */
export interface RunningBot {
  web: WebServer
  telegram: TelegramFrontEnd | undefined
  /** Where conversations are kept, for the start-up message. */
  memoryLocation: string
  responderName: () => string
  /** What GET /metrics shows. */
  metrics: BotMetrics
  /** Stops the front ends, then flushes and closes memory and the voice pool; idempotent. */
  close(): Promise<void>
}

export interface StartOptions {
  /** Where every line goes; the default prints to the console with the configured secrets redacted. */
  log?: Log
  /** Abandons the start-up (timeout, signal): what was opened is closed and the call rejects. */
  signal?: AbortSignal
}

/** Wires the three packages into the bot and starts its front ends. */
export async function startBot(config: BotConfig, options: StartOptions = {}): Promise<RunningBot> {
  const log = options.log ?? consoleLog(redactor(secretsOf(config)))
  const { signal } = options
  const logError = (message: string, error: unknown) => log.error(message, error)
  signal?.throwIfAborted()
  // The file's extension picks the backend: .json the Python bot's format, .db SQLite.
  const path = join(
    config.memoryDir,
    config.memoryBackend === 'sqlite' ? 'conversations.db' : 'conversations.json',
  )
  let voice: VoiceSystem
  try {
    voice = new VoiceSystem({ language: config.voiceLanguage })
  } catch (error) {
    throw new ConfigError(`VOICE_LANGUAGE: ${error instanceof Error ? error.message : String(error)}`)
  }
  // The bot owns shutdown (see main.ts), so the store's own signal hooks are turned off.
  const common = { flushOnExit: false, onError: (error: unknown) => logError('memory:', error) }
  if (!config.redisUrl) {
    const hint = otherStoreHint(config.memoryDir, config.memoryBackend)
    if (hint !== undefined) log.info(hint)
  }
  const memory = config.redisUrl
    ? await openMemory({
        ...common,
        backend: redisBackend({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix }),
      })
    : await openMemory({ ...common, path })
  const model = config.ollamaHost
    ? new OllamaResponder({
        host: config.ollamaHost,
        model: config.ollamaModel,
        contextMessages: config.contextMessages,
      })
    : undefined
  const responder = new AutoResponder(model, { log: (line) => log.info(line) })
  const metrics = new BotMetrics()
  // The store's saves, pending messages and errors, and the voice pool's tasks, queue, threads and
  // engine start-ups, on the same /metrics.
  const memoryMetrics = registerMemoryMetrics({ registry: metrics.registry })
  memoryMetrics.track(memory, { store: 'conversations' })
  const voiceMetrics = registerVoiceMetrics({ registry: metrics.registry })
  const opened: { close(): Promise<void> }[] = [
    memory,
    voicePool,
    {
      close: async () => {
        memoryMetrics.dispose()
        voiceMetrics.dispose()
      },
    },
  ]
  try {
    signal?.throwIfAborted()
    await responder.start()
    signal?.throwIfAborted()
    const bot = new TauroBot({
      memory,
      voice,
      voiceLanguage: config.voiceLanguage,
      responder,
      extraStats: () => [`Voice pool: ${describeFigures(voicePool.stats())}.`],
      logError,
      onReply: (timing) => metrics.observeReply(timing),
    })
    const assets = await buildAssets()
    signal?.throwIfAborted()
    const web = await startWebServer({
      bot,
      assets,
      rateLimiter: new RateLimiter({ limit: config.rateLimitPerMinute }),
      voiceRateLimiter: new RateLimiter({ limit: config.voiceRateLimitPerMinute }),
      responderName: () => responder.name,
      port: config.port,
      headersTimeoutMs: config.http.headersTimeoutSeconds * 1000,
      requestTimeoutMs: config.http.requestTimeoutSeconds * 1000,
      keepAliveTimeoutMs: config.http.keepAliveTimeoutSeconds * 1000,
      maxConnections: config.http.maxConnections,
      metrics,
      logError,
    })
    opened.unshift(web)
    const telegram = config.telegramToken
      ? await startTelegram({
          token: config.telegramToken,
          apiRoot: config.telegramApiRoot,
          bot,
          // Telegram chats are told apart by Telegram itself, so their budget stays per chat.
          rateLimiter: new RateLimiter({ limit: config.rateLimitPerMinute }),
          signal,
          logError,
        })
      : undefined
    if (telegram) opened.unshift({ close: () => telegram.stop() })

    let closing: Promise<void> | undefined
    return {
      web,
      telegram,
      memoryLocation: config.redisUrl
        ? `Redis at ${withoutPassword(config.redisUrl)} (keys ${config.redisKeyPrefix}*)`
        : path,
      responderName: () => responder.name,
      metrics,
      close() {
        closing ??= closeInOrder(opened)
        return closing
      },
    }
  } catch (error) {
    await closeInOrder(opened).catch(() => {})
    throw error
  }
}

/** Front ends first (no new messages), then memory (flushed), then the voice pool (drained). */
async function closeInOrder(parts: { close(): Promise<void> }[]): Promise<void> {
  const failures: unknown[] = []
  for (const part of parts) {
    try {
      await part.close()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'the bot did not close cleanly')
}

/** The Redis URL as it can be printed: any password replaced. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.href
  } catch {
    return 'the configured server'
  }
}
