// `npm start` from the repository root lands here: read the environment, start the bot, print
// where to open it, and shut down cleanly on Ctrl+C or SIGTERM.
import { type RunningBot, startBot } from './app.js'
import { type BotConfig, ConfigError, loadConfig } from './config.js'

async function main(): Promise<void> {
  let config: BotConfig
  try {
    config = loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`Cannot start TauroBot: ${error.message}`)
    process.exitCode = 1
    return
  }

  let bot: RunningBot | undefined
  let stoppingSince: number | undefined
  const close = (running: RunningBot) =>
    running.close().then(
      () => console.log('TauroBot stopped.'),
      (error: unknown) => {
        console.error('TauroBot did not stop cleanly:', error)
        process.exitCode = 1
      },
    )
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // One Ctrl+C can arrive more than once: from the terminal to the whole process group, and
      // relayed by npm, pnpm and tsx. Only a later one means "now, without waiting".
      if (Date.now() - stoppingSince < 1000) return
      console.error(`${signal} again: exiting without waiting.`)
      process.exit(130)
    }
    stoppingSince = Date.now()
    console.log(`${signal}: stopping (saving conversations, closing the voice pool)...`)
    // A signal during start-up is handled once the start-up is over (below).
    if (bot !== undefined) void close(bot)
  }
  // Listening before anything starts: a signal must never find the bot without its handlers.
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  bot = await startBot(config)
  if (stoppingSince !== undefined) {
    await close(bot)
    return
  }
  console.log(`TauroBot is running. Open ${bot.web.url} in your browser.`)
  console.log(`  conversations: ${bot.memoryLocation}`)
  console.log(
    `  replies:       ${bot.responderName()}${config.ollamaHost ? '' : ' (set OLLAMA_HOST to use a local model)'}`,
  )
  console.log(
    `  telegram:      ${bot.telegram ? `@${bot.telegram.username}` : 'off (set TELEGRAM_BOT_TOKEN to connect a bot)'}`,
  )
  console.log('Press Ctrl+C to stop.')
}

main().catch((error: unknown) => {
  console.error('Cannot start TauroBot:', error instanceof Error ? error.message : error)
  if (error instanceof Error && error.cause) console.error('  cause:', error.cause)
  process.exitCode = 1
  // Nothing is left to stop: a signal ends the process the usual way again.
  process.removeAllListeners('SIGINT')
  process.removeAllListeners('SIGTERM')
})
