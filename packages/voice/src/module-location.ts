// Where a module given by the caller (a custom engine, the worker) is, as the caller wrote it. Only
// forms that name one file wherever the process is started are accepted: a relative path would be
// resolved against the working directory of whatever starts the bot, and a file: URL without a full
// path against nothing the caller controls.
import { isAbsolute } from 'node:path'

/** How a module location string reads: complete, relative, or a `file:` URL that is not complete. */
export type ModuleLocation = 'complete' | 'relative' | 'partial-url'

/** Classifies `location`: an absolute path or a complete `file:` URL is `'complete'`. */
export function moduleLocation(location: string): ModuleLocation {
  if (location.startsWith('file:')) {
    return URL.canParse(location) && new URL(location).pathname.startsWith('/') ? 'complete' : 'partial-url'
  }
  return isAbsolute(location) ? 'complete' : 'relative'
}
