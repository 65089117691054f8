/**
 * The part of a better-sqlite3 statement the SQLite backend uses. Written out here, so that the
 * backend's types do not depend on `@types/better-sqlite3`.
 */
export interface SqliteStatement {
  /** Runs a statement that returns no rows. */
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  /** The first row, or `undefined`. */
  get(...params: unknown[]): unknown
  /** Every row. */
  all(...params: unknown[]): unknown[]
  /** Makes `get` and `all` return the first column's value instead of row objects. */
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
  /** Compiles one SQL statement. */
  prepare(source: string): SqliteStatement
  /** Runs SQL text that returns no rows (several statements allowed). */
  exec(source: string): unknown
  /** Reads or sets a PRAGMA. */
  pragma(source: string, options?: { simple?: boolean }): unknown
  /** Closes the connection. */
  close(): unknown
}
