import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { launchPersistentChromium } from '../../test/chromium.js'

export { CHROMIUM_PATH } from '../../test/chromium.js'

/** The repository's Chromium (test/chromium.ts) with a fresh profile under `scratchDir`. */
export function launchChromium(scratchDir: string): Promise<BrowserContext> {
  return launchPersistentChromium(mkdtempSync(join(scratchDir, 'chromium-')))
}
