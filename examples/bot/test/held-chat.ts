import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { launchPersistentChromium } from '../../../test/chromium.js'
import { type BotProcess, startBotProcess } from './bot-process.js'
import { fakeOllama } from './fake-ollama.js'

/** The bot's web chat in Chromium, with a model whose first reply waits after its first piece. */
export interface HeldChat {
  readonly bot: BotProcess
  readonly page: Page
  /** Lets the held reply continue; idempotent. */
  release(): void
  /** Stops the browser, the bot and the model, and removes the scratch directory. */
  close(): Promise<void>
}

/**
 * Starts a bot on a fake Ollama that streams `reply` in its pieces and holds the first reply after
 * its first piece until `release()`, so a test can look at a reply that is still being written.
 */
export async function startHeldChat(
  reply: readonly string[],
  options: { chromiumArgs?: readonly string[] } = {},
): Promise<HeldChat> {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const dir = await mkdtemp(join(tmpdir(), 'taurobot-held-chat-'))
  const ollama = await fakeOllama(['qwen2.5:0.5b'], () => [...reply], { hold: () => held })
  let bot: BotProcess | undefined
  let context: BrowserContext | undefined
  const close = async () => {
    release()
    await context?.close()
    await bot?.stop()
    await ollama.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    bot = await startBotProcess({
      MEMORY_DIR: dir,
      OLLAMA_HOST: ollama.url.href,
      OLLAMA_MODEL: 'qwen2.5:0.5b',
    })
    context = await launchPersistentChromium(join(dir, 'profile'), { extraArgs: options.chromiumArgs ?? [] })
    context.setDefaultTimeout(60_000)
    const page = context.pages()[0] ?? (await context.newPage())
    return { bot, page, release: () => release(), close }
  } catch (error) {
    await close()
    throw error
  }
}
