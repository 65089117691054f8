import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VoiceError } from '../errors.js'

function moduleUrl(): string | undefined {
  // tsup's shims give the CJS build an import.meta.url; a consumer's bundler may leave it empty.
  try {
    return typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined
  } catch {
    return undefined
  }
}

/** Finds the worker module: explicit path, next to this module, or through the package's exports. */
export function resolveWorkerPath(explicit?: string | URL): string {
  if (explicit !== undefined) {
    const path = explicit instanceof URL || explicit.startsWith('file:') ? fileURLToPath(explicit) : explicit
    if (!existsSync(path)) {
      throw new VoiceError(
        'worker-missing',
        `the worker module "${path}" given as workerPath does not exist.`,
        {
          details: { workerPath: path },
        },
      )
    }
    return path
  }
  // Every entry and chunk of the build sits in dist/, so the URL of the built module holding this
  // code points there, wherever this file sits in src/.
  const here = moduleUrl()
  const tried: string[] = []
  if (here?.startsWith('file:')) {
    const sibling = fileURLToPath(new URL('./worker.js', here))
    if (existsSync(sibling)) return sibling
    tried.push(sibling)
  }
  // Bundled into a consumer's app, this module no longer sits in dist/: resolve the worker through
  // the package's `./worker` export, from the bundle (or the entry script) first. A CJS bundle has
  // no import.meta.url, and naming __filename here would make tsup shim it into the ESM build.
  const bases = [here, process.argv[1], join(process.cwd(), 'index.js')]
  for (const base of bases) {
    if (base === undefined) continue
    try {
      return createRequire(base).resolve('@taurobot/voice/worker')
    } catch {
      tried.push(`@taurobot/voice/worker from ${base}`)
    }
  }
  throw new VoiceError(
    'worker-missing',
    'cannot find the worker module (dist/worker.js). If you bundle your app, keep @taurobot/voice ' +
      'installed in node_modules or set voicePool.configure({ workerPath }).',
    { details: { tried } },
  )
}
