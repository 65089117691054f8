/**
 * The SQLite backend of `@taurobot/memory`, in its own entry so that only the bots that use it
 * need the optional `better-sqlite3` peer dependency.
 *
 * @packageDocumentation
 * @module @taurobot/memory/sqlite
 */

export type { SqliteBackendOptions } from './backends/sqlite/sqlite-backend.js'
export { sqliteBackend } from './backends/sqlite/sqlite-backend.js'
export type { SqliteDatabase, SqliteStatement } from './backends/sqlite/sqlite-database.js'
