import { type BrowserContext, chromium } from 'playwright-core'

// Debian's Chromium, never a browser downloaded by a test tool. The background-networking flags
// keep it from calling out of a machine whose only network is loopback.
const baseArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Starts headless Chromium with a fresh profile in `profileDir`. */
export function launchChromium(
  profileDir: string,
  options: { extraArgs?: string[] } & Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<BrowserContext> {
  const { extraArgs = [], ...rest } = options
  return chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...baseArgs, ...extraArgs],
    ...rest,
  })
}
