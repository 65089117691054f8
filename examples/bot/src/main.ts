// `npm start` from the repository root lands here: read the environment, start the bot, print
// where to open it, and shut down cleanly on Ctrl+C or SIGTERM.
import { type RunningBot, startBot } from './app.js'
import { type BotConfig, ConfigError, loadConfig } from './config.js'
import { consoleLog, type Log } from './log.js'
import { redactor, secretsOf } from './redact.js'

async function main(): Promise<void> {
  let config: BotConfig
  try {
    config = loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    // ConfigError messages never echo a secret (see config.ts).
    console.error(`Cannot start TauroBot: ${error.message}`)
    process.exitCode = 1
    return
  }
  const log = consoleLog(redactor(secretsOf(config)))

  let bot: RunningBot | undefined
  let stoppingSince: number | undefined
  const startup = new AbortController()
  const close = (running: RunningBot) =>
    running.close().then(
      () => log.info('TauroBot stopped.'),
      (error: unknown) => {
        log.error('TauroBot did not stop cleanly:', error)
        process.exitCode = 1
      },
    )
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // One Ctrl+C can arrive more than once: from the terminal to the whole process group, and
      // relayed by npm, pnpm and tsx. Only a later one means "now, without waiting".
      if (Date.now() - stoppingSince < 1000) return
      log.error(`${signal} again: exiting without waiting.`)
      process.exit(130)
    }
    stoppingSince = Date.now()
    log.info(`${signal}: stopping (saving conversations, closing the voice pool)...`)
    if (bot !== undefined) void close(bot)
    // During start-up: whatever it waits on is abandoned, and what it opened is closed.
    else startup.abort(new Error(`stopped by ${signal}`))
  }
  // Listening before anything starts: a signal must never find the bot without its handlers.
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  const seconds = config.startupTimeoutSeconds
  const timer = setTimeout(
    () => startup.abort(new Error(`start-up took longer than ${seconds} s (STARTUP_TIMEOUT_SECONDS)`)),
    seconds * 1000,
  )
  try {
    bot = await startBot(config, { log, signal: startup.signal })
  } catch (error) {
    if (stoppingSince === undefined) {
      failed(error, log)
      return
    }
    // Stopped as asked: what start-up had opened is closed, so this is a clean exit.
    log.info('TauroBot stopped before it was ready.')
    return
  } finally {
    clearTimeout(timer)
  }
  if (stoppingSince !== undefined) {
    await close(bot)
    return
  }
  log.info(`TauroBot is running. Open ${bot.web.url} in your browser.`)
  log.info(`  conversations: ${bot.memoryLocation}`)
  log.info(
    `  replies:       ${bot.responderName()}${config.ollamaHost ? '' : ' (set OLLAMA_HOST to use a local model)'}`,
  )
  log.info(
    `  telegram:      ${bot.telegram ? `@${bot.telegram.username}` : 'off (set TELEGRAM_BOT_TOKEN to connect a bot)'}`,
  )
  log.info(`  metrics:       ${bot.web.url}metrics (Prometheus text format)`)
  log.info('Press Ctrl+C to stop.')
}

/** Reports a start-up that cannot go on; the process then ends by itself with code 1. */
function failed(error: unknown, log: Log): void {
  log.error(`Cannot start TauroBot: ${error instanceof Error ? error.message : String(error)}`)
  // The causes one line each, without their stacks, which tell a user of the bot nothing more.
  for (const cause of causesOf(error)) log.error(`  cause: ${cause}`)
  process.exitCode = 1
  // Nothing is left to stop: a signal ends the process the usual way again.
  process.removeAllListeners('SIGINT')
  process.removeAllListeners('SIGTERM')
}

/**
 * The messages of the errors behind `error`, outermost first: each `cause`, and the `error` a
 * library error wraps (grammY's HttpError, whose own message leaves out the request's URL).
 */
function causesOf(error: unknown): string[] {
  const messages: string[] = []
  let current = error
  for (let depth = 0; depth < 4; depth++) {
    if (typeof current !== 'object' || current === null) break
    const inner: unknown = (current as { cause?: unknown }).cause ?? (current as { error?: unknown }).error
    if (inner === undefined) break
    messages.push(inner instanceof Error ? inner.message : String(inner))
    current = inner
  }
  return messages
}

main().catch((error: unknown) => {
  const { TELEGRAM_BOT_TOKEN: telegramToken, REDIS_URL: redisUrl } = process.env
  failed(error, consoleLog(redactor(secretsOf({ telegramToken, redisUrl }))))
})
