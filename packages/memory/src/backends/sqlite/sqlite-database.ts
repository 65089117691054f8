/**
 * The part of a better-sqlite3 statement the SQLite backend uses. Written out here, so that the
 * backend's types do not depend on `@types/better-sqlite3`.
 */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  pluck(toggleState?: boolean): this
}

/** The part of a better-sqlite3 `Database` the SQLite backend uses; any open `Database` fits. */
export interface SqliteDatabase {
  /** True while the connection is open. */
  readonly open: boolean
  /** The file the connection was opened on. */
  readonly name: string
  /** True inside a transaction. */
  readonly inTransaction: boolean
  prepare(source: string): SqliteStatement
  exec(source: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  close(): unknown
}
