import { Bot, type Context, GrammyError, InputFile } from 'grammy'
import type { BotReply, TauroBot } from './core.js'
import type { RateLimiter } from './rate-limit.js'
import { telegramHtml } from './telegram-html.js'

export interface TelegramOptions {
  /** The token from @BotFather. */
  token: string
  bot: TauroBot
  rateLimiter: RateLimiter
  /** Another Bot API server, e.g. a local one; default https://api.telegram.org. */
  apiRoot?: string
  /** Gives up connecting (getMe, setMyCommands) when aborted: start-up timed out or was stopped. */
  signal?: AbortSignal
  /** @default console.error */
  logError?: (message: string, error: unknown) => void
}

export interface TelegramFrontEnd {
  /** The bot's @username, as Telegram reports it. */
  username: string
  /** Stops long polling after the update being handled; idempotent. */
  stop(): Promise<void>
}

/** Telegram's own limit for one text message. */
const TELEGRAM_TEXT_LIMIT = 4096

function fit(text: string): string {
  const chars = [...text]
  return chars.length <= TELEGRAM_TEXT_LIMIT ? text : `${chars.slice(0, TELEGRAM_TEXT_LIMIT - 1).join('')}…`
}

/**
 * Sends a reply as Telegram formatting: a model's Markdown is shown as bold, code, links… instead
 * of its asterisks. Commands' answers are plain text. Should Telegram refuse the HTML (it reads it
 * more strictly than any other client), or should it be too long once read, the text goes plain.
 */
async function sendReply(ctx: Context, reply: BotReply): Promise<void> {
  if (reply.command !== undefined) {
    await ctx.reply(fit(reply.text))
    return
  }
  const { html, text } = telegramHtml(reply.text)
  if ([...text].length > TELEGRAM_TEXT_LIMIT) {
    await ctx.reply(fit(text))
    return
  }
  try {
    await ctx.reply(html, { parse_mode: 'HTML' })
  } catch (error) {
    if (
      !(error instanceof GrammyError && error.error_code === 400 && /parse entities/i.test(error.description))
    ) {
      throw error
    }
    await ctx.reply(text)
  }
}

/**
 * The Telegram front end on grammY, by long polling: text messages and commands go to the bot,
 * replies come back as messages and, with /voice on, as voice notes (Ogg/Opus through sendVoice).
 */
export async function startTelegram(options: TelegramOptions): Promise<TelegramFrontEnd> {
  const { bot: tauro, rateLimiter } = options
  const logError = options.logError ?? ((message, error) => console.error(message, error))
  // Bounded calls: a Bot API server that stops answering must not hold shutdown for grammY's default 500 s.
  const client = { timeoutSeconds: 60, ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}) }
  const bot = new Bot(options.token, { client })
  // grammY retries getMe on network errors and 5xx without end; this is what to report if it never succeeds.
  let lastFailure: unknown
  bot.api.config.use(async (call, method, payload, signal) => {
    try {
      const response = await call(method, payload, signal)
      if (!response.ok) lastFailure = new Error(`${method}: ${response.error_code} ${response.description}`)
      return response
    } catch (error) {
      lastFailure = error
      throw error
    }
  })

  bot.on('message:text', async (ctx) => {
    const chatId = ctx.chat.id
    const verdict = rateLimiter.take(`telegram-${chatId}`)
    if (!verdict.allowed) {
      await ctx.reply(`Too many messages: please wait ${Math.ceil(verdict.retryAfterMs / 1000)} s.`)
      return
    }
    const reply = await tauro.handle(chatId, ctx.message.text, { frontEnd: 'telegram' })
    await sendReply(ctx, reply)
    if (reply.voice) {
      await ctx.replyWithVoice(new InputFile(reply.voice.data, 'reply.ogg'), {
        duration: Math.max(1, Math.round(reply.voice.durationMs / 1000)),
      })
    } else if (reply.voiceError) {
      await ctx.reply('(I could not speak this reply; the text above is all there is.)')
    }
  })
  bot.on('message', (ctx) => ctx.reply('I read text messages only. Type /help to see what I can do.'))
  bot.catch((error) => logError(`Telegram update ${error.ctx.update.update_id} failed:`, error.error))

  // grammY types its signals with the abort-controller shim's class; Node's own is what it gets at run time.
  const signal = options.signal as Parameters<typeof bot.init>[0]
  try {
    await bot.init(signal)
  } catch (error) {
    if (options.signal?.aborted) {
      const root = options.apiRoot ?? 'https://api.telegram.org'
      throw new Error(
        `${reasonOf(options.signal)}, waiting for Telegram's Bot API at ${root} to answer getMe: check the network and TELEGRAM_API_ROOT`,
        { cause: lastFailure ?? error },
      )
    }
    throw new Error(
      'Telegram did not accept TELEGRAM_BOT_TOKEN (getMe failed): check the token from @BotFather, or unset it to run the web chat only',
      { cause: error },
    )
  }
  await bot.api
    .setMyCommands(
      [
        { command: 'start', description: 'introduction' },
        { command: 'help', description: 'what I can do' },
        { command: 'clear', description: 'forget this conversation' },
        { command: 'stats', description: 'what is stored and how' },
        { command: 'voice', description: 'turn spoken replies on or off' },
      ],
      undefined,
      signal,
    )
    .catch((error: unknown) => logError('setMyCommands failed (the commands still work):', error))

  options.signal?.throwIfAborted()
  // bot.start() settles only when polling stops; a failure there must not go unnoticed.
  const polling = bot.start({ allowed_updates: ['message'] }).catch((error: unknown) => {
    logError('Telegram polling stopped:', error)
  })
  let stopping: Promise<void> | undefined
  return {
    username: bot.botInfo.username,
    stop() {
      stopping ??= (async () => {
        const stopped = (async () => {
          if (bot.isRunning()) await bot.stop()
          await polling
        })()
        // The update being handled may wait on a slow upload; shutdown waits for it, within reason.
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            logError('Telegram did not stop within 10 s; going on with shutdown', undefined)
            resolve()
          }, 10_000)
        })
        await Promise.race([
          stopped.catch((error: unknown) => logError('stopping Telegram failed:', error)),
          late,
        ])
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason.message : String(reason)
}
