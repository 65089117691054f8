import { MemoryError } from '../../errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

/** What `new Database(path, options)` of better-sqlite3 needs from us. */
export type DatabaseConstructor = new (
  path: string,
  options?: { timeout?: number; readonly?: boolean; fileMustExist?: boolean },
) => SqliteDatabase

/**
 * Imports better-sqlite3 on first use, so that only the bots that use the SQLite backend need the
 * optional peer dependency (and its native build).
 */
export async function loadBetterSqlite3(): Promise<DatabaseConstructor> {
  try {
    const loaded = (await import('better-sqlite3')) as unknown as {
      default?: DatabaseConstructor
    }
    // A CommonJS package: Node's ESM view puts its export on `default`.
    const Database = loaded.default ?? (loaded as unknown as DatabaseConstructor)
    if (typeof Database !== 'function') throw new Error('better-sqlite3 exports no Database class')
    return Database
  } catch (error) {
    throw new MemoryError(
      'backend-unavailable',
      `the SQLite backend needs the better-sqlite3 package, which could not be loaded (${(error as Error).message}). Run \`npm install better-sqlite3@12\`.`,
      { cause: error },
    )
  }
}
