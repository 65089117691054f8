import { createRequire } from 'node:module'
import type * as PromClient from 'prom-client'
import { MemoryError } from '../errors.js'

/** The parts of prom-client the exporter uses: pass the module itself. */
export type PromClientModule = Pick<typeof PromClient, 'Counter' | 'Gauge' | 'Histogram' | 'register'>

/**
 * Loads prom-client on first use, so that only the bots that export metrics need the optional
 * peer dependency. Synchronous (prom-client is CommonJS), so registering the metrics is too.
 */
export function loadPromClient(): PromClientModule {
  try {
    const loaded = createRequire(import.meta.url)('prom-client') as Partial<PromClientModule>
    if (typeof loaded.Counter !== 'function') throw new Error('prom-client exports no Counter class')
    return loaded as PromClientModule
  } catch (error) {
    throw new MemoryError(
      'metrics-unavailable',
      `@taurobot/memory/metrics needs the prom-client package, which could not be loaded (${(error as Error).message}). Run \`npm install prom-client@15\`, or pass your prom-client module as the \`client\` option.`,
      { cause: error },
    )
  }
}
