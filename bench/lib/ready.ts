// The `ready()` checks of the benches that need something from the machine: each returns the
// reason to skip the bench, or null when it can run.
import { existsSync } from 'node:fs'
import { Redis } from 'ioredis'
import { CHROMIUM_PATH } from './chromium.js'

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A Redis server answers a PING at `url`. */
export async function redisReady(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await client.connect()
    await client.ping()
    return null
  } catch (error) {
    return `no Redis answers at ${url} (${message(error)})`
  } finally {
    client.disconnect()
  }
}

/** Chromium is at `CHROMIUM_PATH`. */
export async function chromiumReady(): Promise<string | null> {
  return existsSync(CHROMIUM_PATH) ? null : `no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`
}

/** `@taurobot/voice` synthesizes a short Italian WAV sentence here (its default engine loads). */
export async function voiceReady(): Promise<string | null> {
  try {
    const { VoiceSystem } = await import('@taurobot/voice')
    await new VoiceSystem({ language: 'it' }).synthesize('Ciao!', { format: 'wav' })
    return null
  } catch (error) {
    return `@taurobot/voice cannot synthesize here: ${message(error)}`
  }
}
