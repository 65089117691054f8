// Over 400 lines on purpose, for now: one class owns the file store's state (paths, sequence
// numbers, the conversations in memory, the compaction and backup in flight), and every method
// below reads or changes it under the store's serial queue. The parts with a job of their own are
// already beside it (journal, snapshot reader and parser, compaction worker, lock, atomic writes,
// store path, and the words and copies of open-time recovery in open-recovery.ts); the next split
// is the backup and compaction scheduling, which share the state of the snapshot on disk.
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type {
  AppendResult,
  Backend,
  BackendContext,
  BackendStats,
  BatchEntry,
  ConversationSummary,
  Operation,
  RecoveredInfo,
} from '../../backend.js'
import { publishCompaction } from '../../diagnostics.js'
import { isMemoryError, MemoryError } from '../../errors.js'
import { fileKind } from '../../file-kind.js'
import { directoryInTheWay, errorCode, ioError } from '../../io-error.js'
import { assertFilePath } from '../../location.js'
import { type Message, messageTime, snapshotMessageProblem } from '../../message.js'
import { assignLegacyIds } from '../../message-id.js'
import {
  booleanOption,
  integerOption,
  knownOptions,
  nonEmptyString,
  oneOf,
  positiveNumber,
} from '../../options.js'
import { SerialQueue } from '../../serial-queue.js'
import { type OverLimit, overLimitWarning } from '../over-limit.js'
import {
  copyAtomic,
  linkAtomic,
  readIfExists,
  removeLeftovers,
  WriteCalledOffError,
  writeAtomicChunks,
} from './atomic-write.js'
import {
  applyRecord,
  CHUNK_CHARS,
  CLAIM_CALLED_OFF,
  CLAIM_OPEN,
  CompactionMismatchError,
  ForeignSnapshotError,
  type ListGuards,
  listFor,
  newestOf,
  prepareLoaded,
  type StoredList,
  sizeOf,
} from './compaction.js'
import { DeferredConversation } from './deferred-conversation.js'
import { permissionsOf } from './file-mode.js'
import { assertHeapRoom, migrateCommand, SQLITE_ADVICE } from './heap-room.js'
import {
  defaultJournalSync,
  type ExtendEntry,
  type ExtendOperation,
  encodeRecord,
  extendEntry,
  isExtend,
  Journal,
  type JournalRecord,
  type JournalSync,
  parseJournal,
} from './journal.js'
import { keepForeignCopy } from './keep-copy.js'
import { type SnapshotData, SnapshotFormatError, snapshotChunks } from './legacy-format.js'
import { FileLock } from './lock.js'
import {
  invalidUtf8Warning,
  keepDamagedJournal,
  keepReorderedJournal,
  OPEN_FAILED,
  restoreFromBackup,
  sequenceWarning,
  sqliteAtSnapshotPath,
  tornTailWarning,
} from './open-recovery.js'
import { readSnapshot } from './read-snapshot.js'
import { currentIdentity, type SnapshotIdentity } from './snapshot-identity.js'
import { resolveStorePath } from './store-path.js'
import { findCompactionWorker, WorkerCompactor, WorkerUnavailableError } from './worker-compactor.js'

/** Options of {@link fileBackend}. */
export interface FileBackendOptions {
  /**
   * Snapshot file; the journal is `<path>.journal`, the backup `<path>.bak`, the lock `<path>.lock`.
   * A symbolic link is followed at open: these files then live beside its target.
   */
  path: string
  /**
   * Rewrite the snapshot once the journal is this many times larger than the snapshot. Higher
   * writes fewer bytes overall but replays a longer journal at open.
   * @default 2
   */
  compactionRatio?: number
  /**
   * The journal is never compacted below this size, in bytes.
   * @default 1048576
   */
  compactionMinBytes?: number
  /**
   * Rewrite the snapshot in the background on a worker thread, which rebuilds it from the files,
   * so the main thread neither formats nor writes it. When the worker's module cannot be found
   * (some bundlers) or this is `false`, the main thread writes it, paced in small slices.
   * Compaction at open and `close()` always runs on the main thread.
   * @default true
   */
  compactionWorker?: boolean
  /**
   * How each journal append is made durable before it counts as saved. `'dsync'`: the journal is
   * opened with O_DSYNC, so every write returns only once it is on stable storage, one system call
   * per batch. `'fdatasync'`: a write followed by fdatasync(), two calls per batch, for filesystems
   * that handle O_DSYNC badly. Both give the same guarantee.
   * @default 'dsync' where the platform has O_DSYNC (Linux, macOS), otherwise 'fdatasync'
   */
  journalSync?: JournalSync
  /**
   * Whether `close()` rewrites the snapshot to include the journal. `'always'`: the snapshot is
   * then the complete store, as the Python bot needs, at a cost that grows with the whole store
   * (seconds per million messages). `'auto'`: only while that rewrite is small (a snapshot of
   * up to 16 MiB); a larger store leaves its newest messages in the journal, where the next open
   * replays them, and `taurobot-memory compact <path>` completes the file on demand. Nothing is
   * less durable either way: the journal already holds every saved message.
   * @default 'auto'
   */
  compactOnClose?: CompactOnClose
}

/** When `close()` rewrites the snapshot: see {@link FileBackendOptions.compactOnClose}. */
export type CompactOnClose = 'always' | 'auto'

const OPTION_NAMES = new Set([
  'path',
  'compactionRatio',
  'compactionMinBytes',
  'compactionWorker',
  'journalSync',
  'compactOnClose',
])

/**
 * Creates the file backend: a snapshot in the Python bot's JSON format at `path`, an append-only
 * journal beside it, a one-time `.bak` and a lock file. This is what `openMemory({ path })` uses.
 *
 * @example
 * ```ts
 * import { fileBackend, openMemory } from '@taurobot/memory'
 * const memory = await openMemory({ backend: fileBackend({ path: 'memory/conversations.json', compactionRatio: 4 }) })
 * ```
 */
export function fileBackend(options: FileBackendOptions): Backend {
  return createFileBackend(options)
}

/**
 * {@link fileBackend}, with `onOverLimit` given the conversations longer than maxMessages that open
 * found, instead of the warning that the file drops their oldest messages at its next write:
 * `taurobot-memory compact` drops them itself, and says so in its own words once it has.
 */
export function createFileBackend(
  options: FileBackendOptions,
  onOverLimit?: (found: OverLimit) => void,
): Backend {
  if (options === undefined) throw new TypeError('options must be an object with a path, got undefined')
  const o = knownOptions(options, OPTION_NAMES)
  const path = nonEmptyString('path', o.path)
  assertFilePath(path)
  const ratio = positiveNumber('compactionRatio', o.compactionRatio, 2)
  const minBytes = integerOption(
    'compactionMinBytes',
    o.compactionMinBytes,
    1_048_576,
    0,
    Number.MAX_SAFE_INTEGER,
  )
  const useWorker = booleanOption('compactionWorker', o.compactionWorker, true)
  const journalSync = oneOf<JournalSync>(
    'journalSync',
    o.journalSync,
    ['dsync', 'fdatasync'],
    defaultJournalSync,
  )
  if (journalSync === 'dsync' && defaultJournalSync !== 'dsync') {
    throw new RangeError(
      `journalSync 'dsync' needs O_DSYNC, which this platform does not have: use 'fdatasync'`,
    )
  }
  const compactOnClose = oneOf<CompactOnClose>('compactOnClose', o.compactOnClose, ['always', 'auto'], 'auto')
  return new FileBackend(resolve(path), ratio, minBytes, useWorker, journalSync, compactOnClose, onOverLimit)
}

// With compactOnClose 'auto', close() rewrites snapshots up to this size (well under a second).
const CLOSE_REWRITE_MAX_BYTES = 16 * 1024 * 1024

// Past either, the warning suggests SQLite: a JSON store is then slow to open and to rewrite.
const LARGE_SNAPSHOT_BYTES = 100 * 1024 * 1024
const SLOW_OPEN_MS = 1000

// Snapshots up to this size are copied to the `.bak` before the first save (a few milliseconds);
// larger ones are linked first and copied in the background.
const BACKUP_COPY_NOW_BYTES = 8 * 1024 * 1024

class FileBackend implements Backend {
  readonly name = 'file'
  readonly operations = true
  readonly extend = true
  // The files as named by `path` until open() resolves its symbolic links.
  private journal: Journal
  private lock: FileLock
  private bakPath: string
  private conversationsById = new Map<string, StoredList>()
  private extras: Array<[string, unknown]> = []
  private messageCount = 0
  private seq = 0
  private snapshotBytes = 0
  private snapshotExists = false
  // The snapshot as this store last read or wrote it: a difference is another program's write.
  private knownSnapshot: SnapshotIdentity = null
  // The identity of the file the running rewrite renamed into place, taken from its temp file
  // before the rename: a stat after it could take a write landing meanwhile for the store's own.
  private renamedSnapshot: SnapshotIdentity | undefined
  private backupDone = false
  private backupCopy: Promise<void> | undefined
  private bytesWritten = 0
  private compactions = 0
  private maxMessages = Number.POSITIVE_INFINITY
  private context: BackendContext | undefined
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new'
  // Lists captured by a compaction on this thread: changed copy-on-write so the snapshot stays consistent.
  private frozen = new WeakSet<Message[]>()
  /** Lists loaded from the snapshot whose legacy ids are not derived yet (see `listFor`). */
  private readonly withoutIds = new WeakSet<Message[]>()
  /** Lists parsed from the snapshot at open whose messages are not checked yet (see `listFor`). */
  private readonly unchecked = new WeakSet<Message[]>()
  /** Messages trimmed from the front of those lists since they were loaded (see `listFor`). */
  private readonly trimmed = new WeakMap<Message[], number>()
  // The snapshot held conversations longer than maxMessages, which the file keeps until a rewrite.
  private snapshotOverLimit = false
  private compactor: WorkerCompactor | undefined
  private compacting: Promise<void> | undefined
  // The running worker job's claim (see CompactionJob.claim).
  private workerClaim: Int32Array | undefined
  private calledOff = false
  private compactionFailedAt = -1
  // The journal's size when the rewrite at exit failed: not tried again until it changes.
  private exitRewriteFailedAt = -1
  private warnedLarge = false
  // Journal operations run one at a time: appends and the journal restart after compaction.
  private readonly journalLane = new SerialQueue()
  private readonly journalSync: JournalSync

  constructor(
    private path: string,
    private readonly ratio: number,
    private readonly minBytes: number,
    useWorker: boolean,
    journalSync: JournalSync,
    private readonly compactOnClose: CompactOnClose,
    private readonly onOverLimit: ((found: OverLimit) => void) | undefined,
  ) {
    this.journal = new Journal(`${path}.journal`, journalSync)
    this.lock = new FileLock(`${path}.lock`)
    this.bakPath = `${path}.bak`
    this.journalSync = journalSync
    const workerUrl = useWorker ? findCompactionWorker() : undefined
    if (workerUrl !== undefined) this.compactor = new WorkerCompactor(workerUrl)
  }

  async open(context: BackendContext): Promise<void> {
    if (this.state !== 'new') {
      throw new MemoryError(
        'closed',
        'this file backend was already opened once. Create a new one with fileBackend().',
      )
    }
    this.state = 'opening'
    this.context = context
    this.maxMessages = context.maxMessages
    const given = this.path
    try {
      this.path = await resolveStorePath(given)
    } catch (error) {
      this.state = 'closed'
      throw error
    }
    // Only where adds wait for their write: prepared space doubles the bytes the journal writes,
    // for a faster durable append, which a batched store's adds never wait for.
    this.journal = new Journal(`${this.path}.journal`, this.journalSync, context.durability === 'strict')
    this.lock = new FileLock(`${this.path}.lock`)
    this.bakPath = `${this.path}.bak`
    try {
      await this.lock.acquire(given)
    } catch (error) {
      this.state = 'closed'
      throw error
    }
    try {
      const started = performance.now()
      await removeLeftovers(this.path, [this.journal.path, this.bakPath])
      const recovered = await this.load()
      if (recovered.length > 0) {
        // A damaged file was kept aside: write the restored state before anything else, so a crash
        // now cannot leave us with the journal alone, nor a damaged line in the journal to append after.
        await this.compact()
        for (const info of recovered) context.recovered(info)
      }
      // A store this large compacts within one threshold of writes: start its worker now, so the
      // thread's start-up does not land in the middle of a save.
      if (this.snapshotBytes + this.journal.size >= this.minBytes) this.compactor?.prepare()
      this.warnIfLarge(performance.now() - started)
      this.state = 'open'
    } catch (error) {
      this.state = 'closed'
      await this.closeJournal()
      await this.lock.release().catch(() => undefined)
      throw error
    }
  }

  async append(given: readonly BatchEntry[]): Promise<AppendResult> {
    this.assertOpen()
    const failed = this.refusedEntries(given)
    const batch = failed === undefined ? given : given.filter((entry) => !failed.has(entry.id))
    if (failed !== undefined && batch.length === 0) return { bytes: 0, failed }
    const record: JournalRecord = { s: this.seq + 1 }
    // Appends alone, the common case, keep the record the previous release reads.
    let appendsOnly: Array<[string, Message[]]> | undefined = []
    for (const entry of batch) {
      if (entry.operations !== undefined) {
        appendsOnly = undefined
        break
      }
      appendsOnly.push([entry.id, entry.messages as Message[]])
    }
    if (appendsOnly !== undefined) {
      record.a = appendsOnly
    } else {
      const appends: Array<[string, Message[]]> = []
      const changes: Array<[string, Operation[]]> = []
      const parts: ExtendEntry[] = []
      for (const entry of batch) {
        if (entry.operations === undefined) appends.push([entry.id, entry.messages as Message[]])
        else if (!entry.operations.every(isExtend)) changes.push([entry.id, entry.operations as Operation[]])
        // Parts of streamed replies alone: the compact form, about their text per write.
        else for (const part of entry.operations as ExtendOperation[]) parts.push(extendEntry(entry.id, part))
      }
      if (appends.length > 0) record.a = appends
      if (changes.length > 0) record.o = changes
      if (parts.length > 0) record.x = parts
    }
    const bytes = await this.writeRecord(record)
    return failed === undefined ? { bytes } : { bytes, failed }
  }

  async read(id: string, limit?: number): Promise<Message[]> {
    this.assertOpen()
    const list = listFor('read', this.conversationsById, id, this.guards())
    if (list === undefined) return []
    return limit === undefined || limit >= list.length ? list.slice() : list.slice(list.length - limit)
  }

  async has(id: string): Promise<boolean> {
    this.assertOpen()
    return this.conversationsById.has(id)
  }

  async clear(id: string): Promise<boolean> {
    this.assertOpen()
    if (!this.conversationsById.has(id)) return false
    await this.writeRecord({ s: this.seq + 1, c: [id] })
    return true
  }

  async prune(cutoff: number): Promise<string[]> {
    this.assertOpen()
    const idle: string[] = []
    for (const [id, list] of this.conversationsById) {
      if (messageTime(newestOf(list)) < cutoff) idle.push(id)
    }
    if (idle.length > 0) await this.writeRecord({ s: this.seq + 1, c: idle })
    return idle
  }

  async *conversations(): AsyncIterable<ConversationSummary> {
    this.assertOpen()
    for (const [id, list] of [...this.conversationsById]) {
      const last = newestOf(list)
      const messages = sizeOf(list)
      yield last === undefined || typeof last.timestamp !== 'string'
        ? { id, messages }
        : { id, messages, lastTimestamp: last.timestamp }
    }
  }

  async stats(): Promise<BackendStats> {
    this.assertOpen()
    return {
      conversations: this.conversationsById.size,
      messages: this.messageCount,
      bytesWritten: this.bytesWritten,
      compactions: this.compactions,
      journalBytes: this.journal.size,
      snapshotBytes: this.snapshotBytes,
    }
  }

  /**
   * Rewrites the snapshot now when the journal holds anything, so that it is complete alone, or
   * when it holds conversations longer than maxMessages (`taurobot-memory compact --max-messages`).
   */
  async completeSnapshot(): Promise<void> {
    this.assertOpen()
    await this.compacting
    if (this.journal.size > 0 || this.snapshotOverLimit) await this.compact()
  }

  /**
   * A script that ends without close() gets the snapshot close() would write, by the same rule, so
   * the Python bot sees its messages. The lock stays: the next open takes it over from the exited
   * process, and until exit the store stays usable.
   */
  async completeAtExit(): Promise<void> {
    if (this.state !== 'open') return
    // A background compaction first: the snapshot it writes is the base of this one.
    if (this.compacting !== undefined) await this.compacting
    if (this.state !== 'open' || !this.rewritesAtClose()) return
    // beforeExit comes back after every turn that did I/O: a failure is not retried until the
    // journal changes, so a rewrite that cannot succeed does not keep the process alive.
    if (this.journal.size === this.exitRewriteFailedAt) return
    try {
      await this.compact()
      this.exitRewriteFailedAt = -1
    } catch (error) {
      this.exitRewriteFailedAt = this.journal.size
      this.context?.warn(
        `${(error as Error).message} The snapshot was not completed at exit; the journal keeps the data and the next open replays it.`,
      )
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed'
      return
    }
    this.state = 'closed'
    await this.backupCopy
    await this.settleBackgroundCompaction()
    // The journal already holds everything durably: a skipped or failed final compaction loses
    // nothing, the next open replays the journal. Only readers of the snapshot alone (the Python
    // bot) need it complete, which 'always' and `taurobot-memory compact` give.
    if (this.rewritesAtClose()) {
      await this.compact().catch((error: unknown) =>
        this.context?.warn(
          `${(error as Error).message} The journal keeps the data; it is replayed at next open.`,
        ),
      )
    } else {
      await this.warnIfWrittenElsewhere().catch(() => undefined)
    }
    await this.stopWorker()
    await this.closeJournal()
    await this.lock.release()
  }

  async destroy(): Promise<void> {
    this.state = 'closed'
    await this.backupCopy
    await this.settleBackgroundCompaction()
    await this.stopWorker()
    await this.closeJournal()
    await this.lock.release()
  }

  /**
   * Closes the journal and, while the lock is still held, removes it if this open created it and
   * nothing was written: reading a store (a migration's source) leaves its directory as it was.
   */
  private async closeJournal(): Promise<void> {
    await this.journal.close().catch(() => undefined)
    await this.journal.removeIfUnused()
  }

  /**
   * Whether close() rewrites the snapshot now: something to add, and cheap enough or 'always', or
   * a journal past the compaction threshold. A process that closes before its background
   * compaction renames calls that off; without this, a bot restarted often would let the journal
   * grow past `compactionRatio` × the snapshot without bound, each open replaying all of it.
   */
  private rewritesAtClose(): boolean {
    return (
      this.journal.size > 0 &&
      (this.compactOnClose === 'always' ||
        this.snapshotBytes + this.journal.size <= CLOSE_REWRITE_MAX_BYTES ||
        this.journal.size > this.compactionThreshold())
    )
  }

  /**
   * Waits for a background compaction, unless the worker has not reached its rename yet: that job
   * is called off instead (it may be far behind, running at a lower priority), so close() never
   * waits for it and its snapshot can no longer replace the one close() writes.
   */
  private async settleBackgroundCompaction(): Promise<void> {
    const claim = this.workerClaim
    if (
      claim !== undefined &&
      Atomics.compareExchange(claim, 0, CLAIM_OPEN, CLAIM_CALLED_OFF) === CLAIM_OPEN
    ) {
      this.calledOff = true
      return
    }
    await this.compacting
  }

  /** Passes a warning to the store, if there is one to pass. */
  private warn(message: string | undefined): void {
    if (message !== undefined) this.context?.warn(message)
  }

  /**
   * A file written elsewhere (the Python bot's) may hold longer conversations than `maxMessages`:
   * they are trimmed as they load, and the file loses their oldest messages at its next rewrite.
   * Said once at open, so a low limit does not cost history without a word (or told to
   * `onOverLimit`, whose caller says it).
   */
  private warnOverLimit(found: OverLimit): void {
    if (found.conversations === 0) return
    if (this.onOverLimit !== undefined) {
      this.onOverLimit(found)
      return
    }
    this.context?.warn(
      overLimitWarning(JSON.stringify(this.path), this.maxMessages, 'from the file at its next write', found),
    )
  }

  /** Suggests SQLite once per backend, when the snapshot or the time to open it has grown large. */
  private warnIfLarge(openMs = 0): void {
    if (this.warnedLarge || (this.snapshotBytes <= LARGE_SNAPSHOT_BYTES && openMs <= SLOW_OPEN_MS)) return
    this.warnedLarge = true
    const mb = Math.round(this.snapshotBytes / 2 ** 20)
    this.context?.warn(
      `[@taurobot/memory] ${JSON.stringify(this.path)} is a ${mb} MiB JSON snapshot` +
        `${openMs > SLOW_OPEN_MS ? ` that took ${(openMs / 1000).toFixed(1)} s to open` : ''}: every open reads all of it ` +
        `and every compaction rewrites all of it. ${SQLITE_ADVICE}; move the store with: ${migrateCommand(this.path)}`,
    )
  }

  /** Stops the worker; the temp file of a job it was told to drop goes with it. */
  private async stopWorker(): Promise<void> {
    await this.compactor?.terminate()
    if (this.calledOff) await removeLeftovers(this.path, [])
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new MemoryError(
        'closed',
        `the file backend for ${JSON.stringify(this.path)} is ${this.state === 'closed' ? 'closed' : 'not open'}.`,
      )
    }
  }

  private async currentSnapshot(path = this.path): Promise<SnapshotIdentity> {
    try {
      return await currentIdentity(path)
    } catch (error) {
      throw ioError('check snapshot', path, error)
    }
  }

  /**
   * Called just before our snapshot replaces the file: when another program (the Python bot) wrote
   * it since this store read or wrote it, its file is kept aside first, so nothing it wrote is
   * destroyed without a word. Failing to keep it calls the rewrite off (the journal keeps ours).
   */
  private async keepForeignSnapshot(): Promise<void> {
    const now = await this.currentSnapshot()
    if (now === this.knownSnapshot || now === null) return
    let keptAs: string
    try {
      keptAs = await keepForeignCopy(this.path)
    } catch (error) {
      throw ioError('keep a copy of the snapshot another program wrote at', `${this.path}.foreign-*`, error)
    }
    this.knownSnapshot = now
    this.context?.warn(
      `[@taurobot/memory] ${JSON.stringify(this.path)} was written by another program (the Python bot?) while this store had it open. ` +
        `That version is kept as ${JSON.stringify(keptAs)} and the store's own snapshot replaces it: the changes made there are not in the store. ` +
        `Merge them by hand from ${JSON.stringify(keptAs)}, and stop the other program before opening the store: while a store has the file open, nothing else may write it.`,
    )
  }

  /** At a close that does not rewrite the snapshot: says if another program wrote it meanwhile. */
  private async warnIfWrittenElsewhere(): Promise<void> {
    const now = await this.currentSnapshot()
    if (now === this.knownSnapshot) return
    const journal =
      this.journal.size > 0
        ? ` Its next open replays the journal ${JSON.stringify(this.journal.path)} over that version.`
        : ''
    this.context?.warn(
      `[@taurobot/memory] ${JSON.stringify(this.path)} was ${now === null ? 'removed' : 'written'} by another program (the Python bot?) while this store had it open; the store left it as it is.${journal} ` +
        'Stop the other program before opening the store: while a store has the file open, nothing else may write it.',
    )
  }

  private async writeRecord(record: JournalRecord): Promise<number> {
    if (!this.backupDone) await this.backupOnce()
    const line = encodeRecord(record)
    try {
      await this.journalLane.run(() => this.journal.append(line))
    } catch (error) {
      throw ioError('append to journal', this.journal.path, error)
    }
    this.seq = record.s
    this.apply(record)
    this.bytesWritten += line.length
    this.maybeCompact()
    return line.length
  }

  /**
   * The `.bak`: the snapshot as it was, kept once per process before its first write. A small
   * snapshot is copied at once. A large one is hard-linked (O(1): snapshots are only replaced by
   * rename), so the first save does not wait, and then copied in the background: until that copy
   * lands, a program that rewrote the snapshot in place would damage the `.bak` too.
   */
  private async backupOnce(): Promise<void> {
    if (this.backupDone) return
    if (this.snapshotExists) {
      try {
        if (this.snapshotBytes <= BACKUP_COPY_NOW_BYTES) {
          this.bytesWritten += await copyAtomic(this.path, this.bakPath)
        } else {
          await linkAtomic(this.path, this.bakPath).then(
            () => {
              this.backupCopy = this.copyBackupInBackground()
            },
            // No hard links on this file system: copy now.
            async (error: unknown) => {
              if (errorCode(error) === 'ENOENT') throw error
              this.bytesWritten += await copyAtomic(this.path, this.bakPath)
            },
          )
        }
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw ioError('write backup', this.bakPath, error)
      }
    }
    this.backupDone = true
  }

  /** Turns the linked `.bak` into a copy of its own; called off by close() and destroy(). */
  private async copyBackupInBackground(): Promise<void> {
    try {
      this.bytesWritten += await copyAtomic(this.bakPath, this.bakPath, () => this.state === 'open')
    } catch (error) {
      // The link stays the backup: good against everything but in-place writes by another program.
      if (error instanceof WriteCalledOffError) return
      this.context?.warn(
        `[@taurobot/memory] cannot copy the backup ${JSON.stringify(this.bakPath)} (${errorCode(error) ?? String(error)}); it stays a hard link to the snapshot it preserves.`,
      )
    }
  }

  /** Applies a record; `replay` at open, when conversations are not checked (see `ListGuards`). */
  private apply(record: JournalRecord, replay = false): void {
    this.messageCount += applyRecord(this.conversationsById, record, this.maxMessages, this.guards(replay))
  }

  private guards(replay = false): ListGuards {
    return {
      frozen: this.frozen,
      withoutIds: this.withoutIds,
      unchecked: this.unchecked,
      checkLoaded: replay ? undefined : (id, list) => this.checkLoaded(id, list),
      // Only lists not checked yet are trimmed uncounted: at open and while the journal is replayed.
      trimmed: replay ? this.trimmed : undefined,
    }
  }

  /**
   * Refuses a conversation of the snapshot holding a message without a string `role` or `content`
   * (written by hand or by another program), before it is handed out or changed: such a message
   * would break every caller that prints it. The conversation stays as the file holds it.
   */
  private checkLoaded(id: string, list: readonly Message[]): void {
    for (let kept = 0; kept < list.length; kept++) {
      const problem = snapshotMessageProblem(list[kept])
      if (problem === undefined) continue
      // Its place in the file: the messages trimmed at open were in front of it.
      const index = kept + (this.trimmed.get(list as Message[]) ?? 0)
      throw new MemoryError(
        'corrupt',
        `message ${index} of conversation ${JSON.stringify(id)} in ${JSON.stringify(this.path)} is not a message: ${problem} ` +
          '(a message needs a non-empty string role and a string content). Nothing was changed. ' +
          'Fix or remove that message in the file while no store has it open, or clear() the conversation to drop it.',
        { details: { file: this.path, id, index, problem } },
      )
    }
  }

  /**
   * The entries whose conversation, loaded from the snapshot, holds a message that cannot be handed
   * out (see {@link checkLoaded}), each with its error; checked before anything is journaled, so
   * such a conversation is never written to (the store reports them apart and writes the others).
   */
  private refusedEntries(batch: readonly BatchEntry[]): Map<string, MemoryError> | undefined {
    let refused: Map<string, MemoryError> | undefined
    const guards = this.guards()
    for (const entry of batch) {
      try {
        listFor('read', this.conversationsById, entry.id, guards)
      } catch (error) {
        if (!isMemoryError(error, 'corrupt')) throw error
        refused ??= new Map()
        refused.set(entry.id, error)
      }
    }
    return refused
  }

  /** The journal size past which the snapshot is rewritten: `compactionRatio` × the snapshot. */
  private compactionThreshold(): number {
    return Math.max(this.minBytes, this.ratio * this.snapshotBytes)
  }

  private maybeCompact(): void {
    if (this.compacting !== undefined || this.state !== 'open') return
    const threshold = this.compactionThreshold()
    if (this.journal.size <= threshold) return
    // After a failed compaction, wait for the journal to grow by another threshold before retrying.
    if (this.compactionFailedAt >= 0 && this.journal.size < this.compactionFailedAt + threshold) return
    // In the background the snapshot is written slowly on purpose, so the bot keeps the thread;
    // at open and close nothing competes with it and it goes at full speed.
    this.compacting = this.compact(true)
      .then(() => {
        this.compactionFailedAt = -1
      })
      .catch((error: unknown) => {
        if (error instanceof WriteCalledOffError) return
        this.compactionFailedAt = this.journal.size
        this.context?.warn(
          `${(error as Error).message} Compaction will be retried; the journal keeps every message meanwhile.`,
        )
      })
      .finally(() => {
        this.compacting = undefined
      })
  }

  /**
   * Writes the snapshot (atomic) with the sequence number it contains, then restarts the journal
   * with only the records appended meanwhile. A crash between the two leaves a journal whose older
   * records replay skips by sequence number. In the background the worker thread writes it if it
   * can, else this thread, paced.
   */
  private async compact(background = false): Promise<void> {
    const started = performance.now()
    await this.backupOnce()
    const seq = this.seq
    const offset = this.journal.size
    this.renamedSnapshot = undefined
    let bytes = background ? await this.compactOnWorker(seq, offset) : undefined
    if (bytes === undefined) bytes = await this.compactHere(seq, background)
    this.knownSnapshot = this.renamedSnapshot ?? (await this.currentSnapshot())
    this.snapshotExists = true
    this.snapshotBytes = bytes
    this.bytesWritten += bytes
    this.compactions++
    this.snapshotOverLimit = false
    publishCompaction(this, bytes, performance.now() - started, background)
    if (this.state === 'open') this.warnIfLarge()
    await this.journalLane.run(async () => {
      try {
        const tail = await this.journal.readFrom(offset)
        await this.journal.replaceWith(tail)
        this.bytesWritten += tail.length
      } catch (error) {
        throw ioError('restart journal', this.journal.path, error)
      }
    })
  }

  /** Streams the snapshot from memory; the lists it reads are frozen until it is written. */
  private async compactHere(seq: number, paced: boolean): Promise<number> {
    const view = new Map(this.conversationsById)
    for (const list of view.values()) if (Array.isArray(list)) this.frozen.add(list)
    try {
      // Ids not derived yet are derived as their list is written: the rewrite stores every id, as the
      // compaction worker's does (it derives them all). A conversation still in bytes is parsed for
      // the write alone, and stays in bytes: it costs memory only while it is formatted.
      const withIds = (list: StoredList): readonly Message[] => {
        if (list instanceof DeferredConversation) {
          const parsed = list.parse()
          assignLegacyIds(parsed, { inPlace: true })
          return parsed
        }
        if (this.withoutIds.delete(list)) assignLegacyIds(list, { inPlace: true })
        return list
      }
      const chunks = snapshotChunks(view, this.extras, seq, CHUNK_CHARS, withIds)
      return await writeAtomicChunks(this.path, chunks, {
        // close() and destroy() wait for a running compaction: from then on it goes at full speed.
        paced: paced ? () => this.state === 'open' : false,
        beforeRename: async (temp) => {
          await this.keepForeignSnapshot()
          this.renamedSnapshot = await this.currentSnapshot(temp)
        },
      })
    } catch (error) {
      // Already said what to do (the copy of another program's snapshot could not be kept).
      if (isMemoryError(error)) throw error
      throw ioError('write snapshot', this.path, error)
    } finally {
      this.frozen = new WeakSet()
    }
  }

  /**
   * Has the worker rebuild the snapshot from the files as of record `seq` (the journal's first
   * `offset` bytes). `undefined` when the worker cannot do it and this thread must.
   */
  private async compactOnWorker(seq: number, offset: number): Promise<number | undefined> {
    const compactor = this.compactor
    if (compactor === undefined) return undefined
    const claim = new Int32Array(new SharedArrayBuffer(4))
    this.workerClaim = claim
    try {
      const done = await compactor.run({
        path: this.path,
        journalPath: this.journal.path,
        journalBytes: offset,
        seq,
        maxMessages: this.maxMessages,
        claim,
        expectIdentity: this.knownSnapshot,
      })
      this.renamedSnapshot = done.identity
      return done.bytes
    } catch (error) {
      // Called off by close() or destroy(), whatever the worker said since (the thread may also
      // have been stopped): this compaction must leave the snapshot and the journal alone.
      if (Atomics.load(claim, 0) === CLAIM_CALLED_OFF) {
        throw new WriteCalledOffError(`the background rewrite of ${JSON.stringify(this.path)} was called off`)
      }
      if (error instanceof WorkerUnavailableError) {
        this.compactor = undefined
        this.context?.warn(
          `[@taurobot/memory] the compaction worker thread is unavailable (${error.message}); snapshots of ${JSON.stringify(this.path)} are now written on the main thread.`,
        )
        return undefined
      }
      // This thread's write keeps the other program's file aside and says so.
      if (error instanceof ForeignSnapshotError) return undefined
      if (error instanceof CompactionMismatchError) {
        this.context?.warn(
          `[@taurobot/memory] the compaction worker could not rebuild ${JSON.stringify(this.path)} from the files (${error.message}); this snapshot is written on the main thread.`,
        )
        return undefined
      }
      throw ioError('write snapshot', this.path, error)
    } finally {
      this.workerClaim = undefined
    }
  }

  /** Loads snapshot then journal; returns what was recovered from damaged files. */
  private async load(): Promise<RecoveredInfo[]> {
    let data: SnapshotData<StoredList> = { conversations: new Map(), extras: [], seq: 0 }
    let recovered: RecoveredInfo | undefined
    let journalBytes = 0
    try {
      journalBytes = (await stat(this.journal.path)).size
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioError('read journal', this.journal.path, error)
    }
    let restoredSeq = -1
    try {
      const snapshot = await readSnapshot(this.path, (bytes) => {
        this.snapshotExists = true
        this.snapshotBytes = bytes
        assertHeapRoom(this.path, bytes + journalBytes)
      })
      if (snapshot !== undefined) {
        this.knownSnapshot = snapshot.identity
        data = snapshot.data
        this.warn(invalidUtf8Warning('snapshot', this.path, snapshot.invalidUtf8At))
      }
    } catch (error) {
      if (isMemoryError(error)) throw error
      if (errorCode(error) === 'EISDIR') {
        throw directoryInTheWay(OPEN_FAILED, this.path, 'a JSON snapshot', 'conversations.json', error)
      }
      if (!(error instanceof SnapshotFormatError)) throw ioError('read snapshot', this.path, error)
      // A file of the other backend under a .json name is no damage: the .bak must not replace it.
      if ((await fileKind(this.path)) === 'sqlite') throw sqliteAtSnapshotPath(this.path)
      const restored = await restoreFromBackup(
        this.path,
        this.bakPath,
        this.journal.path,
        error.message,
        journalBytes,
        (w) => this.warn(w),
      )
      this.knownSnapshot = await this.currentSnapshot()
      this.snapshotBytes = 0
      // The damaged file must not become the .bak: the existing .bak stays as it is.
      this.backupDone = true
      data = restored.data
      restoredSeq = data.seq
      recovered = restored.info
    }
    this.conversationsById = data.conversations
    this.extras = data.extras
    this.seq = data.seq
    // Messages written without an id (by the Python bot) get theirs when their conversation is
    // first read or changed, from the list as the snapshot holds it: the compaction worker derives
    // the same ones.
    const overLimit: OverLimit = { conversations: 0, longestId: '', longest: 0 }
    this.messageCount += prepareLoaded(
      this.conversationsById,
      this.maxMessages,
      { withoutIds: this.withoutIds, unchecked: this.unchecked, trimmed: this.trimmed },
      overLimit,
    )
    this.warnOverLimit(overLimit)
    this.snapshotOverLimit = overLimit.conversations > 0

    let journalData: Buffer | undefined
    try {
      journalData = await readIfExists(this.journal.path)
    } catch (error) {
      throw ioError('read journal', this.journal.path, error)
    }
    let appendFrom = 0
    let firstReplayed = -1
    let damaged: RecoveredInfo | undefined
    let reordered: RecoveredInfo | undefined
    const outOfOrder: number[] = []
    if (journalData !== undefined) {
      const contents = parseJournal(journalData)
      const snapshotSeq = this.seq
      const applied = new Set<number>()
      for (const record of contents.records) {
        // In the snapshot already, or a second copy of a record applied above.
        if (record.s <= snapshotSeq || applied.has(record.s)) continue
        // Numbered below one applied before it, and never applied itself: the file holds it out of
        // order (our appends never do: damage). Its messages are kept, in the file's order.
        if (record.s < this.seq) outOfOrder.push(record.s)
        if (firstReplayed < 0) firstReplayed = record.s
        this.apply(record, true)
        applied.add(record.s)
        if (record.s > this.seq) this.seq = record.s
      }
      // Where the journal should start is known unless the snapshot was restored from the .bak (the
      // gap is then reported by `recovered`) or holds no position (one the Python bot rewrote).
      const expectFrom =
        recovered === undefined && (snapshotSeq > 0 || !this.snapshotExists) ? snapshotSeq : -1
      this.warn(
        sequenceWarning(this.journal.path, contents.records, expectFrom, firstReplayed, new Set(outOfOrder)),
      )
      this.warn(invalidUtf8Warning('journal', this.journal.path, contents.invalidUtf8At))
      appendFrom = contents.completeBytes
      this.warn(tornTailWarning(this.journal.path, contents))
      if (outOfOrder.length > 0) {
        reordered = await keepReorderedJournal(this.journal.path, this.path, journalData, outOfOrder)
      }
      if (contents.damaged.length > 0) {
        damaged = await keepDamagedJournal(this.journal.path, this.path, journalData, contents)
        // Nothing but prepared space is cut from the file: the compaction that follows at open
        // replaces it whole.
        appendFrom = journalData.length - contents.paddingBytes
      }
    }
    try {
      await this.journal.openForAppend(appendFrom, await permissionsOf(this.path))
    } catch (error) {
      throw ioError('open journal', this.journal.path, error)
    }
    const infos: RecoveredInfo[] = []
    if (recovered !== undefined) {
      const complete = firstReplayed === restoredSeq + 1
      infos.push({
        ...recovered,
        dataMayBeMissing: !complete,
        message: `${recovered.message}${complete ? ' Nothing is missing.' : ' Messages saved between the backup and the last compaction may be missing.'}`,
      })
    }
    if (damaged !== undefined) infos.push(damaged)
    if (reordered !== undefined) infos.push(reordered)
    return infos
  }
}
