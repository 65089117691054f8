// `npm start` from the repository root lands here: read the environment, start the bot, print
// where to open it, and shut down cleanly on Ctrl+C or SIGTERM.
import { startBot } from './app.js'
import { ConfigError, loadConfig } from './config.js'

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`Cannot start TauroBot: ${error.message}`)
    process.exitCode = 1
    return
  }

  const bot = await startBot(config)
  console.log(`TauroBot is running. Open ${bot.web.url} in your browser.`)
  console.log(`  conversations: ${bot.memoryLocation}`)
  console.log(
    `  replies:       ${bot.responderName()}${config.ollamaHost ? '' : ' (set OLLAMA_HOST to use a local model)'}`,
  )
  console.log(
    `  telegram:      ${bot.telegram ? `@${bot.telegram.username}` : 'off (set TELEGRAM_BOT_TOKEN to connect a bot)'}`,
  )
  console.log('Press Ctrl+C to stop.')

  let stoppingSince: number | undefined
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
    bot.close().then(
      () => console.log('TauroBot stopped.'),
      (error: unknown) => {
        console.error('TauroBot did not stop cleanly:', error)
        process.exitCode = 1
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: unknown) => {
  console.error('Cannot start TauroBot:', error instanceof Error ? error.message : error)
  if (error instanceof Error && error.cause) console.error('  cause:', error.cause)
  process.exitCode = 1
})
