import type { Message } from '../../message.js'

/**
 * The snapshot format, shared with the Python bot:
 * `{"conversations": {"<id>": [message, ...]}, "last_updated": "<iso>"}` with indent 2 and
 * non-ASCII text kept as is. Other top-level fields are preserved; ours is `taurobot_memory`,
 * holding the journal sequence number the snapshot includes.
 */
export interface SnapshotData<List = Message[]> {
  conversations: Map<string, List>
  /** Top-level fields other than conversations, last_updated and ours, in file order. */
  extras: Array<[string, unknown]>
  /** Highest journal sequence number contained in the snapshot (0 for files we did not write). */
  seq: number
}

/** The key under which the snapshot records its journal position. */
export const META_KEY = 'taurobot_memory'

/**
 * The highest sequence number a snapshot or a journal record may hold: 2^52, half the safe integer
 * range, so a store loaded at the limit still has room for more records than it could ever write.
 */
export const MAX_SEQ = 2 ** 52

/** Where in a file, counted from 1: the line, and the character within it. */
export interface TextPlace {
  readonly line: number
  readonly column: number
}

/**
 * Why a snapshot could not be read (see `SnapshotParser`). When the JSON itself is invalid, `at`
 * is the file offset of the first byte that is wrong and the message reads
 * `not valid JSON at byte <at> (line <l>, column <c>): <reason>`, the line and column once counted.
 */
export class SnapshotFormatError extends Error {
  constructor(
    /** What is wrong, without where. */
    readonly reason: string,
    /** The file offset of the first byte that is wrong, when it is known. */
    readonly at?: number,
    /** The line and column of `at`, when they were counted (see `readSnapshot`). */
    readonly place?: TextPlace,
  ) {
    super(
      at === undefined
        ? reason
        : `not valid JSON at byte ${at}${place === undefined ? '' : ` (line ${place.line}, column ${place.column})`}: ${reason}`,
    )
  }
}

function indent(json: string, prefix: string): string {
  // JSON.stringify escapes newlines inside strings, so every raw newline is structure.
  return json.replaceAll('\n', `\n${prefix}`)
}

/** One message as it appears inside a conversation of the snapshot (indented, no leading newline). */
function formatMessage(message: Message): string {
  return indent(JSON.stringify(message, null, 2), '      ')
}

/**
 * Yields the snapshot text in pieces of about `chunkBytes` characters, in the Python bot's layout
 * (`json.dump(data, f, indent=2, ensure_ascii=False)`), so no single step stringifies the store.
 * Messages are formatted as the pieces are produced: the text of the whole store never exists at once.
 * `listOf`, when given, gives the messages of each value of `conversations` as it is formatted.
 */
export function* snapshotChunks<Stored = readonly Message[]>(
  conversations: ReadonlyMap<string, Stored>,
  extras: ReadonlyArray<readonly [string, unknown]>,
  seq: number,
  chunkBytes: number,
  listOf: (stored: Stored) => readonly Message[] = (stored) => stored as readonly Message[],
): Generator<string> {
  let chunk = '{\n  "conversations": {'
  let firstConversation = true
  for (const [id, stored] of conversations) {
    const list = listOf(stored)
    chunk += `${firstConversation ? '' : ','}\n    ${JSON.stringify(id)}: [`
    firstConversation = false
    if (list.length === 0) {
      chunk += ']'
      continue
    }
    for (let i = 0; i < list.length; i++) {
      chunk += `${i === 0 ? '' : ','}\n      ${formatMessage(list[i] as Message)}`
      if (chunk.length >= chunkBytes) {
        yield chunk
        chunk = ''
      }
    }
    chunk += '\n    ]'
  }
  chunk += firstConversation ? '},' : '\n  },'
  chunk += `\n  "last_updated": ${JSON.stringify(new Date().toISOString())}`
  for (const [key, value] of extras) {
    const json = JSON.stringify(value, null, 2)
    if (json !== undefined) chunk += `,\n  ${JSON.stringify(key)}: ${indent(json, '  ')}`
  }
  chunk += `,\n  "${META_KEY}": {\n    "seq": ${seq}\n  }\n}\n`
  yield chunk
}
