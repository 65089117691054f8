import { resolve } from 'node:path'

/**
 * The database as errors name it: `text` in the message (the absolute path, quoted, or which
 * given database), `file` in `details.file` (the plain absolute path, ready to use as a path).
 */
export interface DatabasePlace {
  readonly text: string
  readonly file: string
}

/** The place of the database file at `path`. */
export function placeOf(path: string): DatabasePlace {
  const file = resolve(path)
  return { text: JSON.stringify(file), file }
}

/** The place of a database the caller opened; `name` is better-sqlite3's (`:memory:` or '' for none on disk). */
export function placeOfGiven(name: string): DatabasePlace {
  return {
    text: `the given database (${JSON.stringify(name)})`,
    file: name === '' || name === ':memory:' ? name : resolve(name),
  }
}
