import type { RecoveredInfo } from '../../backend.js'
import { isMemoryError, MemoryError } from '../../errors.js'
import { ioError } from '../../io-error.js'
import type { StoredList } from './compaction.js'
import { assertHeapRoom } from './heap-room.js'
import { type JournalContents, type JournalRecord, sequenceBreaks } from './journal.js'
import { keepDamagedCopy } from './keep-copy.js'
import { type SnapshotData, SnapshotFormatError } from './legacy-format.js'
import { readSnapshot } from './read-snapshot.js'

// What the file backend says when it opens files that a crash, a disk or another program left
// damaged, and the restore of a damaged snapshot from its `.bak`. The backend decides when; this
// module holds the wording and the copies kept aside, so each message is written once and tested
// through the backend.

/** The start of the errors of a JSON store that cannot be opened. */
export const OPEN_FAILED = 'cannot open the JSON store'

/** The error for a SQLite database given to the file backend, renamed or mistaken for a snapshot. */
export function sqliteAtSnapshotPath(path: string): MemoryError {
  return new MemoryError(
    'corrupt',
    `${OPEN_FAILED}: ${JSON.stringify(path)} is a SQLite database (it starts with the SQLite header), not a JSON snapshot. ` +
      "Open it with the SQLite backend: give it a .db, .sqlite or .sqlite3 name, or pass backend: sqliteBackend({ path }) from '@taurobot/memory/sqlite'. Nothing was changed.",
    { details: { file: path, found: 'sqlite' } },
  )
}

/** The warning for a file holding bytes that are not UTF-8 (`at` < 0: none). */
export function invalidUtf8Warning(kind: string, file: string, at: number): string | undefined {
  if (at < 0) return undefined
  return (
    `[@taurobot/memory] the ${kind} ${JSON.stringify(file)} holds bytes that are not valid UTF-8 (the first at byte ${at}): ` +
    'they were read as the replacement character U+FFFD, and the next snapshot is written that way. ' +
    'To keep the original text, repair the file from a copy before the store writes again.'
  )
}

/** The warning for the torn final record that open drops, if the journal ends with one. */
export function tornTailWarning(journalPath: string, contents: JournalContents): string | undefined {
  if (contents.tornBytes === 0) return undefined
  const what = contents.tornUnwritten
    ? 'a final record with disk sectors never written'
    : 'an unterminated final record'
  return (
    `[@taurobot/memory] dropped ${what} (${contents.tornBytes} bytes) at the end of ${JSON.stringify(journalPath)}: ` +
    'a write cut short by a crash or power loss, before it was acknowledged.'
  )
}

/**
 * The warning for a journal whose sequence numbers do not go up by one: a gap is records missing,
 * a step back a record that replay skipped. `snapshotSeq` (-1: do not check) is where the journal
 * should continue from.
 */
export function sequenceWarning(
  journalPath: string,
  records: readonly JournalRecord[],
  snapshotSeq: number,
  firstReplayed: number,
  outOfOrder: ReadonlySet<number>,
): string | undefined {
  const problems: string[] = []
  const present = new Set(records.map((record) => record.s))
  if (snapshotSeq >= 0 && firstReplayed > snapshotSeq + 1) {
    const gap = missing(snapshotSeq, firstReplayed, present)
    if (gap !== undefined)
      problems.push(
        `the snapshot holds records up to ${snapshotSeq} and the journal continues at ${firstReplayed} (${gap})`,
      )
  }
  for (const { after, next } of sequenceBreaks(records)) {
    if (next > after) {
      // Numbers between the two that the file holds further on are out of order, not missing.
      const gap = missing(after, next, present)
      if (gap !== undefined) problems.push(`record ${next} follows record ${after} (${gap})`)
    } else if (outOfOrder.has(next)) {
      problems.push(
        `record ${next} follows record ${after}, out of order (loaded all the same, in the file's order)`,
      )
    } else {
      problems.push(
        `record ${next} follows record ${after}, going backwards (skipped by replay: a record with its number was already applied)`,
      )
    }
  }
  if (problems.length === 0) return undefined
  const shown = problems.slice(0, 5)
  if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`)
  return (
    `[@taurobot/memory] the sequence numbers in ${JSON.stringify(journalPath)} break: ${shown.join('; ')}.` +
    (problems.some((problem) => / missing\)$/.test(problem))
      ? ' Messages of missing records are not in the store.'
      : '')
  )
}

/**
 * The records between `after` and `next` that the file does not hold, for a warning; `undefined`
 * when it holds them all (further on, out of order).
 */
function missing(after: number, next: number, present: ReadonlySet<number>): string | undefined {
  let held = 0
  for (const s of present) if (s > after && s < next) held++
  const absent = next - after - 1 - held
  if (absent === 0) return undefined
  if (absent < next - after - 1) return `${absent} of records ${after + 1} to ${next - 1} are missing`
  return next === after + 2
    ? `record ${after + 1} is missing`
    : `records ${after + 1} to ${next - 1} are missing`
}

/** Keeps `data`, the journal as open read it, as `<journal>.corrupt-<hash>`; resolves with that name. */
async function keepJournalCopy(journalPath: string, data: Buffer): Promise<string> {
  try {
    return await keepDamagedCopy(journalPath, data)
  } catch (error) {
    throw ioError('keep a copy of the damaged journal at', `${journalPath}.corrupt-*`, error)
  }
}

/**
 * Keeps a copy of a journal that holds records out of order (`outOfOrder`: each numbered below one
 * before it, and never applied) and says what became of them. Our appends write records in order,
 * so this is damage, or an edit by hand; every record was loaded, those out of order after the
 * ones before them, which may not be the order their messages were added in.
 */
export async function keepReorderedJournal(
  journalPath: string,
  snapshotPath: string,
  data: Buffer,
  outOfOrder: readonly number[],
): Promise<RecoveredInfo> {
  const keptAs = await keepJournalCopy(journalPath, data)
  const count = outOfOrder.length
  const shown = outOfOrder.slice(0, 5).join(', ') + (count > 5 ? ` and ${count - 5} more` : '')
  return {
    source: journalPath,
    keptAs,
    restoredFrom: `${snapshotPath} + every record of ${journalPath}`,
    message:
      `[@taurobot/memory] journal ${JSON.stringify(journalPath)} holds ${count === 1 ? 'a record' : `${count} records`} out of order (${count === 1 ? 'record' : 'records'} ${shown}, each after a record numbered higher): damage or an edit, since the store appends in order. ` +
      `Nothing is lost: ${count === 1 ? 'its' : 'their'} messages were loaded in the order the file holds them, which may not be the order they were added in. ` +
      `The store was written as a new snapshot; the journal as it was is kept as ${JSON.stringify(keptAs)}.`,
    dataMayBeMissing: false,
  }
}

/**
 * Keeps a copy of a journal holding damaged records (complete lines that fail their checksum or
 * are not records) and says what was lost. Those were written whole, so they may have been
 * acknowledged: they are reported as lost data, never as interrupted writes. Every valid record,
 * before and after them, was replayed: each one is checked on its own, and skipping the valid
 * records that follow a damaged one would lose acknowledged messages to protect nothing.
 */
export async function keepDamagedJournal(
  journalPath: string,
  snapshotPath: string,
  data: Buffer,
  contents: JournalContents,
): Promise<RecoveredInfo> {
  const keptAs = await keepJournalCopy(journalPath, data)
  const shown = contents.damaged
    .slice(0, 5)
    .map((damage) => `line ${damage.line} at byte ${damage.offset}: ${damage.reason}`)
  if (contents.damaged.length > shown.length) shown.push(`${contents.damaged.length - shown.length} more`)
  const count = contents.damaged.length
  return {
    source: journalPath,
    keptAs,
    restoredFrom: `${snapshotPath} + the valid records of ${journalPath}`,
    message:
      `[@taurobot/memory] journal ${JSON.stringify(journalPath)} holds ${count} damaged record${count === 1 ? '' : 's'} (${shown.join('; ')}). ` +
      `${count === 1 ? 'It was' : 'They were'} written whole, so this is damage on disk, not an interrupted write: the messages in ${count === 1 ? 'it' : 'them'} are lost. ` +
      `The ${contents.records.length} intact records around ${count === 1 ? 'it' : 'them'} were loaded and the store written as a new snapshot; the journal as it was is kept as ${JSON.stringify(keptAs)}.`,
    dataMayBeMissing: true,
  }
}

/**
 * Reads the `.bak` in place of the damaged snapshot at `path` (damaged for `reason`), keeping a
 * copy of the damaged file aside. It stays in place: it is replaced only by the atomic rename of
 * the restored snapshot, so if that write fails the next open finds the damage and the `.bak`
 * again. Throws a `corrupt` MemoryError when there is no usable backup; nothing is changed then.
 */
export async function restoreFromBackup(
  path: string,
  bakPath: string,
  journalPath: string,
  reason: string,
  journalBytes: number,
  warn: (message: string | undefined) => void,
): Promise<{ data: SnapshotData<StoredList>; info: RecoveredInfo }> {
  let backup: SnapshotData<StoredList> | undefined
  let backupError: unknown
  try {
    const file = await readSnapshot(bakPath, (bytes) => assertHeapRoom(bakPath, bytes + journalBytes))
    backup = file?.data
    if (file !== undefined) warn(invalidUtf8Warning('backup', bakPath, file.invalidUtf8At))
  } catch (error) {
    if (isMemoryError(error)) throw error
    if (!(error instanceof SnapshotFormatError)) throw ioError('read backup', bakPath, error)
    backupError = error
  }
  if (backup === undefined && backupError === undefined) {
    throw new MemoryError(
      'corrupt',
      `snapshot ${JSON.stringify(path)} is damaged: ${reason}. There is no backup ${JSON.stringify(bakPath)} to restore it from. ` +
        'Nothing was changed: repair the file, or move it aside to start a new store.',
      { details: { file: path } },
    )
  }
  if (backup === undefined) {
    throw new MemoryError(
      'corrupt',
      `snapshot ${JSON.stringify(path)} is damaged: ${reason}. Its backup ${JSON.stringify(bakPath)} is damaged too: ${(backupError as Error).message}. ` +
        'Nothing was changed: repair one of them by hand.',
      { cause: backupError, details: { file: path, backup: bakPath } },
    )
  }
  let keptAs: string
  try {
    keptAs = await keepDamagedCopy(path)
  } catch (error) {
    throw ioError('keep a copy of the damaged snapshot at', `${path}.corrupt-*`, error)
  }
  return {
    data: backup,
    info: {
      source: path,
      keptAs,
      restoredFrom: `${bakPath} + ${journalPath}`,
      message: `[@taurobot/memory] snapshot ${JSON.stringify(path)} was damaged: ${reason}. Restored from ${JSON.stringify(bakPath)} and the journal; the damaged file is kept as ${JSON.stringify(keptAs)}.`,
      dataMayBeMissing: true,
    },
  }
}
