import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Finds a worker's built module (such as `compact-worker.js`) next to the package's own files.
 * Every entry and chunk of the build sits in one folder, so this module's own URL points there.
 * Bundled into an app, the file is usually not there (and a CommonJS bundle may have no
 * `import.meta.url`): `undefined`, and the caller does the work on the main thread instead.
 */
export function findWorkerModule(fileName: string): URL | undefined {
  let here: string | undefined
  try {
    here = typeof import.meta.url === 'string' && import.meta.url !== '' ? import.meta.url : undefined
  } catch {
    here = undefined
  }
  if (here === undefined || !here.startsWith('file:')) return undefined
  const url = new URL(`./${fileName}`, here)
  return existsSync(fileURLToPath(url)) ? url : undefined
}
