import { existsSync } from 'node:fs'
import { join } from 'node:path'

const FILES = { json: 'conversations.json', sqlite: 'conversations.db' } as const

/**
 * The line to print at start when the chosen store does not exist yet but the other format's file
 * is there: switching MEMORY_BACKEND alone starts an empty store, and the history stays behind in
 * the other file until it is migrated. `undefined` otherwise.
 */
export function otherStoreHint(dir: string, backend: 'json' | 'sqlite'): string | undefined {
  const chosen = join(dir, FILES[backend])
  const other = join(dir, FILES[backend === 'json' ? 'sqlite' : 'json'])
  // A JSON store may be only its journal until the first snapshot is written.
  const exists = (path: string) =>
    existsSync(path) || (path.endsWith('.json') && existsSync(`${path}.journal`))
  if (exists(chosen) || !exists(other)) return undefined
  return `memory: starting a new ${chosen}, but ${other} beside it holds conversations; to move them over, stop the bot and run: npx @taurobot/memory migrate ${other} ${chosen}`
}
