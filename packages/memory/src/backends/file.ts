import type { Backend } from '../backend.js'

/** Options of {@link fileBackend}. */
export interface FileBackendOptions {
  /** Snapshot file; the journal is `<path>.journal`. */
  path: string
}

/** Creates the file backend (lands in the next commit). */
export function fileBackend(options: FileBackendOptions): Backend {
  throw new TypeError(
    `the file backend is not available yet (path ${JSON.stringify(options.path)}); pass backend: memoryBackend()`,
  )
}
