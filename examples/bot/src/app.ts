import { join } from 'node:path'
import { openMemory } from '@taurobot/memory'
import { redisBackend } from '@taurobot/memory/redis'
import { VoiceSystem, voicePool } from '@taurobot/voice'
import { type BotConfig, ConfigError } from './config.js'
import { describeFigures, TauroBot } from './core.js'
import { RateLimiter } from './rate-limit.js'
import { AutoResponder } from './responder/auto.js'
import { OllamaResponder } from './responder/ollama.js'
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
  /** Stops the front ends, then flushes and closes memory and the voice pool; idempotent. */
  close(): Promise<void>
}

/** Wires the three packages into the bot and starts its front ends. */
export async function startBot(
  config: BotConfig,
  log: (line: string) => void = console.log,
): Promise<RunningBot> {
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
  const common = { flushOnExit: false, onError: (error: unknown) => console.error('memory:', error) }
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
  const responder = new AutoResponder(model, { log })
  const opened: { close(): Promise<void> }[] = [memory, voicePool]
  try {
    await responder.start()
    const bot = new TauroBot({
      memory,
      voice,
      responder,
      extraStats: () => [`Voice pool: ${describeFigures(voicePool.stats())}.`],
    })
    const rateLimiter = new RateLimiter({ limit: config.rateLimitPerMinute })
    const web = await startWebServer({
      bot,
      assets: await buildAssets(),
      rateLimiter,
      responderName: () => responder.name,
      port: config.port,
    })
    opened.unshift(web)
    const telegram = config.telegramToken
      ? await startTelegram({
          token: config.telegramToken,
          apiRoot: config.telegramApiRoot,
          bot,
          rateLimiter,
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
