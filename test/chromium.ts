// The one way this repository starts a browser, for the sw-cache browser tests, the example bot's
// end-to-end test and screenshot, and the benches: Debian's Chromium (or CHROMIUM_PATH), headless,
// never a browser downloaded by a test tool. The background-networking flags keep it from calling
// out of a machine whose only network is loopback.
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Launch options: the shared ones, with `extraArgs` appended to the flags. */
export function chromiumOptions(extraArgs: readonly string[] = []): LaunchOptions {
  return { executablePath: CHROMIUM_PATH, headless: true, args: [...ARGS, ...extraArgs] }
}

/** A browser whose contexts (`browser.newContext()`) each start with a fresh profile. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch(chromiumOptions(extraArgs))
}

/** A persistent context with its profile in `profileDir`; `options` adds to the shared ones. */
export function launchPersistentChromium(
  profileDir: string,
  options: { extraArgs?: readonly string[] } & Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<BrowserContext> {
  const { extraArgs, ...rest } = options
  return chromium.launchPersistentContext(profileDir, { ...chromiumOptions(extraArgs), ...rest })
}
