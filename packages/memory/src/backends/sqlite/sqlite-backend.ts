import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type {
  AppendResult,
  Backend,
  BackendContext,
  BackendStats,
  BatchEntry,
  CommitCounts,
  ConversationSummary,
} from '../../backend.js'
import { createDirectory } from '../../create-directory.js'
import { MemoryError } from '../../errors.js'
import { fileKind } from '../../file-kind.js'
import { directoryInTheWay, errorCode } from '../../io-error.js'
import { assertFilePath } from '../../location.js'
import { type Message, messageTime, show } from '../../message.js'
import { hasId } from '../../message-id.js'
import { booleanOrOneOf, integerOption, knownOptions, nonEmptyString } from '../../options.js'
import { type OverLimit, overLimitWarning } from '../over-limit.js'
import { AUTO_TUNING, type AutoTuning, AutoWriter } from './auto-writer.js'
import { openConnection } from './connection.js'
import { type DatabasePlace, placeOf, placeOfGiven } from './database-place.js'
import { loadBetterSqlite3 } from './load-better-sqlite3.js'
import { ensureSchema } from './schema.js'
import type { SqliteDatabase } from './sqlite-database.js'
import { errorInfo, sqliteFailure, TRY_AGAIN } from './sqlite-errors.js'
import {
  ConversationTables,
  type EncodedEntry,
  type EncodedMessage,
  type EncodedOperation,
} from './tables.js'
import { findWriteWorker, WorkerWriter } from './worker-writer.js'
import { InlineWriter, type Writer } from './writer.js'

/** Options of {@link sqliteBackend}. */
export interface SqliteBackendOptions {
  /**
   * The database file, created with its directory when missing (SQLite keeps `<path>-wal` and
   * `<path>-shm` beside it). Required unless `database` is given.
   */
  path?: string
  /**
   * Your own open better-sqlite3 `Database`. The backend creates its tables in it, uses it as you
   * configured it (set `journal_mode = WAL` and `synchronous = FULL` for the durability described
   * in the README) and never closes it. Writes then run on the main thread.
   */
  database?: SqliteDatabase
  /**
   * How long a write waits for another connection's lock before it fails with code `locked`
   * (the store keeps batched messages and retries), in milliseconds.
   * @default 5000
   */
  busyTimeoutMs?: number
  /**
   * Where commits (and their fsync) run; reads stay on the main thread. `'auto'`, in a store with
   * `durability: 'strict'`, commits small appends on the main thread while they are fast (under
   * 0.5 ms) and everything else on a worker thread with its own connection: big batches, clear,
   * prune, and every write for a few seconds after a slow commit or a database locked by another
   * connection; in a batched store every commit runs on the worker. `true` commits everything on
   * the worker, so no commit ever blocks the event loop; `false` everything on the main thread.
   * Ignored with `database` (writes then run on the main thread).
   * @default 'auto'
   */
  worker?: boolean | 'auto'
}

const OPTION_NAMES = new Set(['path', 'database', 'busyTimeoutMs', 'worker'])
const LIST_CHUNK = 500
// What became of a write that failed, said to the caller who gets the error: in strict mode the
// add() that rejects with it; in batched mode, onError and the next flush().
const KEPT = {
  strict: 'They were not stored: add them again once the cause is fixed.',
  batched: 'The store keeps them and retries.',
} as const

interface ResolvedOptions {
  path: string | undefined
  database: SqliteDatabase | undefined
  busyTimeoutMs: number
  worker: boolean | 'auto'
}

function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) {
    throw new TypeError('options must be an object with path (or database), got undefined')
  }
  const o = knownOptions(options, OPTION_NAMES)
  if (o.path !== undefined && o.database !== undefined) {
    throw new TypeError(
      'options path and database cannot be used together: the database already names its file',
    )
  }
  let database: SqliteDatabase | undefined
  if (o.database !== undefined) {
    const db = o.database as Partial<SqliteDatabase> | null
    if (
      typeof db !== 'object' ||
      db === null ||
      typeof db.prepare !== 'function' ||
      typeof db.pragma !== 'function'
    ) {
      throw new TypeError(`database must be an open better-sqlite3 Database, got ${show(o.database)}`)
    }
    database = db as SqliteDatabase
  }
  const path =
    database === undefined
      ? nonEmptyString(
          'path',
          o.path,
          undefined,
          'pass path (the database file) or database (an open better-sqlite3 Database)',
        )
      : undefined
  // SQLite reads this name as a database in memory, which cannot run in WAL mode and which the
  // write worker's own connection would not share: it is no file for this backend.
  if (path === ':memory:') {
    throw new TypeError(
      `path ":memory:" is SQLite's name for a database in memory, which a SQLite store cannot use through path (it needs WAL mode and a connection of its own on the write worker): for a store that keeps nothing, use memoryBackend(), or pass database: new Database(':memory:') of better-sqlite3`,
    )
  }
  if (path !== undefined) assertFilePath(path, 'conversations.db')
  return {
    path,
    database,
    busyTimeoutMs: integerOption('busyTimeoutMs', o.busyTimeoutMs, 5000, 0, 2_147_483_647),
    worker: booleanOrOneOf('worker', o.worker, ['auto'], 'auto'),
  }
}

/**
 * Creates a SQLite backend: conversations in one database file, each write one transaction, read
 * back by range without loading the history. Needs the `better-sqlite3` package (an optional peer
 * dependency).
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 * import { sqliteBackend } from '@taurobot/memory/sqlite'
 *
 * const memory = await openMemory({ backend: sqliteBackend({ path: 'memory/conversations.db' }) })
 * ```
 */
export function sqliteBackend(options: SqliteBackendOptions): Backend {
  return new SqliteBackend(options, findWriteWorker())
}

const OPEN_FAILED = 'cannot open the SQLite store'

/**
 * A clearer error than SQLite's for what is often at `path` when it cannot be opened: a directory
 * (SQLite says only SQLITE_CANTOPEN) or a JSON snapshot under a .db name (SQLITE_NOTADB).
 * `undefined` for anything else. Reads the file's first bytes only after the open failed.
 */
async function refusedPath(file: string, error: unknown): Promise<MemoryError | undefined> {
  const { code = '' } = errorInfo(error)
  if (!/^SQLITE_(CANTOPEN|NOTADB)/.test(code)) return undefined
  const kind = await fileKind(file)
  if (kind === 'directory') {
    return directoryInTheWay(OPEN_FAILED, file, 'a database file', 'conversations.db', error)
  }
  // SQLite says only "unable to open database file" where it cannot write: the directory's own
  // errno says why (SQLite writes the -wal and -shm files beside the database, even to read it).
  if (code.startsWith('SQLITE_CANTOPEN')) {
    const directory = dirname(file)
    const errno = await access(directory, constants.W_OK).then(
      () => undefined,
      (reason: unknown) => errorCode(reason),
    )
    if (errno === 'EROFS' || errno === 'EACCES' || errno === 'EPERM') {
      const why = errno === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this process'
      return new MemoryError(
        'io',
        `${OPEN_FAILED}: ${JSON.stringify(file)}: its directory ${JSON.stringify(directory)} ${why} (${errno}), and SQLite writes the database and its -wal and -shm files there, even to read it. ` +
          `Point path at a writable location${errno === 'EROFS' ? '' : ', or fix the permissions'}; to read a copy elsewhere, copy the file to a writable directory first.`,
        { cause: error, details: { file, errno, sqliteCode: code } },
      )
    }
  }
  if (kind !== 'json' || !code.startsWith('SQLITE_NOTADB')) return undefined
  return new MemoryError(
    'corrupt',
    `${OPEN_FAILED}: ${JSON.stringify(file)} is not a SQLite database but looks like a JSON snapshot (it starts with "{"), such as the JSON file backend writes. ` +
      "Open it with the JSON file backend: give it a .json name, or pass backend: fileBackend({ path }) from '@taurobot/memory'. " +
      'To move it into SQLite, name it .json and run: npx @taurobot/memory migrate <that>.json <new>.db. Nothing was changed.',
    { cause: error, details: { file, found: 'json', sqliteCode: code } },
  )
}

/** A message's JSON text, its id and its time, as the tables take them. */
function encodeMessage(message: Message): EncodedMessage {
  const { timestamp, time } = timeOf(message)
  return {
    json: JSON.stringify(message),
    id: hasId(message) ? (message.id as string) : null,
    timestamp,
    time,
  }
}

/** A message's `timestamp` as given and in epoch milliseconds, each null when it has none. */
function timeOf(message: Message | undefined): { timestamp: string | null; time: number | null } {
  const time = messageTime(message)
  return {
    timestamp: typeof message?.timestamp === 'string' ? message.timestamp : null,
    time: Number.isNaN(time) ? null : time,
  }
}

interface EncodedBatch {
  entries: EncodedEntry[]
  bytes: number
  /** Messages added or upserted. */
  messages: number
  removes: number
}

function encode(batch: readonly BatchEntry[]): EncodedBatch {
  const entries: EncodedEntry[] = []
  let bytes = 0
  let messages = 0
  let removes = 0
  for (const entry of batch) {
    if (entry.operations !== undefined) {
      const operations: EncodedOperation[] = []
      for (const operation of entry.operations) {
        if (operation.op === 'remove') {
          bytes += Buffer.byteLength(operation.id)
          removes++
          operations.push(operation)
          continue
        }
        if (operation.op === 'extend') {
          // The store sends extend only to a backend that declares Backend.extend; this one does not.
          throw new MemoryError(
            'unsupported',
            'the sqlite backend cannot apply extend operations (it does not declare Backend.extend); nothing was written.',
          )
        }
        const encoded = encodeMessage(operation.message)
        bytes += Buffer.byteLength(encoded.json)
        messages++
        operations.push(
          operation.op === 'upsert' && operation.ifPresent === true
            ? { ...encoded, op: 'upsert', ifPresent: true }
            : { ...encoded, op: operation.op },
        )
      }
      entries.push({
        id: entry.id,
        json: [],
        messageIds: [],
        lastTimestamp: null,
        lastTime: null,
        operations,
      })
      continue
    }
    const json: string[] = []
    const messageIds: (string | null)[] = []
    // One JSON.stringify per message: serialising the batch in one call and splitting the text
    // into rows measured two to four times slower per message for batches of a thousand or more,
    // on Node 20, 22 and 24, and no faster for small ones.
    for (const message of entry.messages) {
      const text = JSON.stringify(message)
      bytes += Buffer.byteLength(text)
      json.push(text)
      messageIds.push(hasId(message) ? (message.id as string) : null)
    }
    messages += json.length
    // Only the newest message's time goes to the summary row: one Date.parse per entry.
    const last = timeOf(entry.messages[entry.messages.length - 1])
    entries.push({ id: entry.id, json, messageIds, lastTimestamp: last.timestamp, lastTime: last.time })
  }
  return { entries, bytes, messages, removes }
}

/** What a failed write was about, as "cannot write 3 messages and 1 remove". */
function describeWrite({ messages, removes }: EncodedBatch): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  return `cannot write ${plural(messages, 'message')}${removes === 0 ? '' : ` and ${plural(removes, 'remove')}`}`
}

/** The SQLite backend; exported for the package's own tests, which choose the worker's module. */
export class SqliteBackend implements Backend {
  readonly name = 'sqlite'
  readonly operations = true
  private state: 'new' | 'open' | 'closed' = 'new'
  private durability: 'batched' | 'strict' = 'batched'
  private db: SqliteDatabase | undefined
  private tables: ConversationTables | undefined
  private writer: Writer | undefined
  private bytesWritten = 0
  private readonly place: DatabasePlace
  private readonly options: ResolvedOptions

  /**
   * `workerUrl` is the write worker's module, `undefined` to write on the main thread; `tuning`
   * sets when `worker: 'auto'` commits on the main thread (tests).
   */
  constructor(
    options: SqliteBackendOptions,
    private readonly workerUrl: URL | undefined,
    private readonly tuning: AutoTuning = AUTO_TUNING,
  ) {
    this.options = resolveOptions(options)
    this.place =
      this.options.database === undefined
        ? placeOf(this.options.path as string)
        : placeOfGiven(this.options.database.name)
  }

  /** True when commits run on the write worker, all or some (for tests and diagnostics). */
  get writesOnWorker(): boolean {
    return this.writer instanceof WorkerWriter || this.writer instanceof AutoWriter
  }

  async open(context: BackendContext): Promise<void> {
    if (this.state !== 'new') {
      throw new MemoryError(
        'closed',
        'this SQLite backend was already opened once. Create a new one with sqliteBackend().',
      )
    }
    this.state = 'closed'
    const { database, busyTimeoutMs } = this.options
    let db = database
    let writer: Writer | undefined
    try {
      if (db === undefined) {
        const path = this.options.path as string
        const Database = await loadBetterSqlite3()
        const dir = dirname(resolve(path))
        await createDirectory(dir)
        db = openConnection(Database, { path, busyTimeoutMs })
      } else if (!db.open) {
        throw new MemoryError('closed', `${this.place.text} is closed. Pass an open better-sqlite3 Database.`)
      }
      ensureSchema(db, this.place)
      const tables = new ConversationTables(db, context.maxMessages)
      // A database written with a larger maxMessages keeps its long conversations until their
      // next write trims them. The writer finds them before its first write (not here: that reads
      // the whole conversations table, and open must not grow with the database).
      const warnOverLimit = (found: OverLimit) =>
        context.warn(
          overLimitWarning(
            this.place.text,
            context.maxMessages,
            'from the database at their next write',
            found,
          ),
        )
      const { worker } = this.options
      if (database === undefined && worker !== false && this.workerUrl !== undefined) {
        const onWorker = new WorkerWriter(
          this.workerUrl,
          { path: this.options.path as string, busyTimeoutMs, maxMessages: context.maxMessages },
          warnOverLimit,
        )
        // In batched mode nobody waits for a single commit, and the store's saves have the event
        // loop's budget (0.5 ms at p99) that a commit's fsync on the main thread does not keep.
        writer =
          worker === 'auto' && context.durability !== 'batched'
            ? new AutoWriter(db, tables, onWorker, busyTimeoutMs, this.tuning)
            : onWorker
      } else writer = new InlineWriter(tables, warnOverLimit)
      await writer.open()
      this.durability = context.durability ?? 'batched'
      this.db = db
      this.tables = tables
      this.writer = writer
    } catch (error) {
      if (writer instanceof WorkerWriter || writer instanceof AutoWriter) await writer.terminate()
      if (database === undefined && db?.open) db.close()
      const path = this.options.path
      if (path !== undefined) {
        const refused = await refusedPath(resolve(path), error)
        if (refused !== undefined) throw refused
      }
      throw sqliteFailure(error, OPEN_FAILED, this.place, '', busyTimeoutMs)
    }
    this.state = 'open'
  }

  async append(batch: readonly BatchEntry[]): Promise<AppendResult> {
    const writer = this.assertOpen().writer
    const encoded = encode(batch)
    try {
      await writer.append(encoded.entries)
    } catch (error) {
      throw this.failure(error, describeWrite(encoded), KEPT[this.durability])
    }
    const { bytes } = encoded
    this.bytesWritten += bytes
    return { bytes }
  }

  async read(id: string, limit?: number): Promise<Message[]> {
    const tables = this.readTables()
    if (limit === 0) return []
    let rows: string[]
    try {
      rows = tables.read(id, limit)
    } catch (error) {
      throw this.failure(error, `cannot read conversation ${show(id)}`, TRY_AGAIN)
    }
    return rows.map((json, index) => {
      try {
        return JSON.parse(json) as Message
      } catch (error) {
        throw new MemoryError(
          'corrupt',
          `message ${index} read from conversation ${show(id)} in ${this.place.text} is not JSON. Something else wrote to the messages table: restore the file from a backup or clear that conversation.`,
          { cause: error, details: { file: this.place.file, id, index } },
        )
      }
    })
  }

  async has(id: string): Promise<boolean> {
    const tables = this.readTables()
    try {
      return tables.has(id)
    } catch (error) {
      throw this.failure(error, `cannot read conversation ${show(id)}`, TRY_AGAIN)
    }
  }

  async clear(id: string): Promise<boolean> {
    const { writer } = this.assertOpen()
    try {
      return await writer.clear(id)
    } catch (error) {
      throw this.failure(error, `cannot clear conversation ${show(id)}`, 'Nothing was changed.')
    }
  }

  async *conversations(): AsyncIterable<ConversationSummary> {
    // By key, a chunk at a time: no statement stays open between chunks (it would hold a read
    // snapshot while the caller awaits), and writes in between never make the walk repeat a row.
    for (let after = 0; ; ) {
      const tables = this.readTables()
      let rows: ReturnType<ConversationTables['list']>
      try {
        rows = tables.list(after, LIST_CHUNK)
      } catch (error) {
        throw this.failure(error, 'cannot list conversations', TRY_AGAIN)
      }
      for (const row of rows) {
        yield row.last_timestamp === null
          ? { id: row.id, messages: row.count }
          : { id: row.id, messages: row.count, lastTimestamp: row.last_timestamp }
      }
      const last = rows[rows.length - 1]
      if (last === undefined || rows.length < LIST_CHUNK) return
      after = last.key
    }
  }

  async prune(cutoff: number): Promise<string[]> {
    const { writer } = this.assertOpen()
    try {
      return await writer.prune(cutoff)
    } catch (error) {
      throw this.failure(error, 'cannot prune conversations', 'Nothing was removed.')
    }
  }

  async stats(): Promise<BackendStats> {
    const { writer } = this.assertOpen()
    const tables = this.readTables()
    try {
      const commits: CommitCounts = { ...writer.commits }
      return { ...tables.counts(), bytesWritten: this.bytesWritten, commits }
    } catch (error) {
      throw this.failure(error, 'cannot count conversations', TRY_AGAIN)
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed'
      return
    }
    this.state = 'closed'
    // The reading connection first: the writer's is then the last, and its close (a checkpoint
    // of the WAL into the database) runs on the worker, off the event loop.
    if (this.options.database === undefined) this.db?.close()
    await this.writer?.close()
  }

  private failure(error: unknown, what: string, after: string): MemoryError {
    return sqliteFailure(error, what, this.place, after, this.options.busyTimeoutMs)
  }

  /** The tables, to read on the main thread's connection, with reads' busy timeout in force. */
  private readTables(): ConversationTables {
    const { tables, writer } = this.assertOpen()
    writer.beforeRead?.()
    return tables
  }

  private assertOpen(): { tables: ConversationTables; writer: Writer } {
    if (this.state !== 'open' || this.tables === undefined || this.writer === undefined) {
      throw new MemoryError(
        'closed',
        `the SQLite backend is ${this.state === 'new' ? 'not open yet' : 'closed'}.`,
      )
    }
    return { tables: this.tables, writer: this.writer }
  }
}
