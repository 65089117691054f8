#!/usr/bin/env node
// taurobot-memory: moves conversations between stores (JSON file, SQLite database, Redis).
import { constants, existsSync } from 'node:fs'
import { access } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { SQLITE_ADVICE } from './backends/file/heap-room.js'
import { linkTarget } from './backends/file/store-path.js'
import { askRedis } from './backends/redis/ask-redis.js'
import { DEFAULT_PREFIX, EMPTY_PREFIX_REASON } from './backends/redis/redis-options.js'
import { closest } from './closest.js'
import { runCompact } from './compact.js'
import { count } from './count.js'
import { isMemoryError, MemoryError } from './errors.js'
import { freshFiles } from './fresh-destination.js'
import { catchInterrupt } from './interrupt.js'
import { type Location, locate } from './location.js'
import type { Memory } from './memory-api.js'
import { type MigrateProgress, type MigrateResult, migrate, refuseLonger } from './migrate.js'
import { redactUrl } from './redact.js'
import { sameStore, sharedKeys } from './same-store.js'
import { openMemory } from './store.js'
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_MESSAGE_BYTES,
  DEFAULT_PENDING_BYTES,
  MAX_BATCH_BYTES,
} from './store-options.js'

const USAGE = `Usage: taurobot-memory migrate <from> <to> [options]
       taurobot-memory compact <file> [--max-messages <n>]

migrate: copies every conversation from one store to another and checks the
counts (a conversation without messages is not copied, and said so). <from> and <to> are each a conversations file in the Python bot's JSON format
(memory/conversations.json), a SQLite database (a file ending in .db, .sqlite or
.sqlite3; needs better-sqlite3) or a Redis URL (redis://host:6379, rediss://...;
needs ioredis).

compact: rewrites a conversations file so that it holds every message of its
journal, in the Python bot's format (the store must not be open elsewhere).
With --max-messages <n>, each conversation keeps its newest n messages, as a
store with maxMessages n shows them (by default nothing is cut).

Options of migrate:
  --key-prefix <prefix>   Redis key prefix (default taurobot:memory:)
  --from-key-prefix <p>   key prefix of <from> only (to move between prefixes)
  --to-key-prefix <p>     key prefix of <to> only
  --max-messages <n>      refuse the migration, copying nothing, if a conversation
                          of <from> holds more than n messages (by default every
                          conversation is copied whole; nothing is ever cut, in
                          <from> or in what <to> held before)
  --max-message-bytes <n> largest message <to> takes, in bytes of its JSON form
                          (default 1048576, 1 MiB; at most 268435456, 256 MiB):
                          a larger message of <from> is refused, nothing copied
  --replace               overwrite conversations the destination already has
  -h, --help              show this help

Exit code: 0 on success, 1 on failure, 2 on bad arguments (a <from> or <file>
that holds no store among them).
`

class UsageError extends Error {}

function isRedisUrl(spec: string): boolean {
  return where(spec).kind === 'redis'
}

function where(spec: string): Location {
  try {
    return locate(spec)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function describe(spec: string): string {
  return isRedisUrl(spec) ? redactUrl(spec) : spec
}

async function open(
  spec: string,
  role: 'from' | 'to',
  keyPrefix: string | undefined,
  maxMessages: number,
  maxMessageBytes = DEFAULT_MESSAGE_BYTES,
) {
  const common = {
    maxMessages,
    maxMessageBytes,
    // Each must hold one message of maxMessageBytes: a larger --max-message-bytes raises them with it.
    maxBatchBytes: Math.max(DEFAULT_BATCH_BYTES, maxMessageBytes),
    maxPendingBytes: Math.max(DEFAULT_PENDING_BYTES, maxMessageBytes),
    maxPending: 1_000_000,
    flushOnExit: false,
  }
  const location = where(spec)
  if (location.kind === 'redis') {
    const prefix = keyPrefix ?? DEFAULT_PREFIX
    if (role === 'from' && (await redisStoreExists(location.url, prefix)) === false) {
      throw new UsageError(
        `no conversations under the key prefix ${JSON.stringify(prefix)} at ${redactUrl(spec)}: it has no ${JSON.stringify(`${prefix}format`)} key, which every store there has. Check --key-prefix or --from-key-prefix`,
      )
    }
    const { redisBackend } = await import('./backends/redis/redis-backend.js')
    return openMemory({ ...common, backend: redisBackend({ url: location.url, keyPrefix }) })
  }
  const target = role === 'from' ? await existingStore(spec, location) : location.path
  // The JSON destination is the user's choice: no advice to move it to SQLite.
  const onWarning = (message: string) => {
    if (!(role === 'to' && message.includes(SQLITE_ADVICE))) process.emitWarning(message)
  }
  const opening = openMemory({ ...common, path: spec, onWarning })
  return role === 'from' ? opening.catch((error: unknown) => readOnlySource(error, spec, target)) : opening
}

/**
 * The file a `<from>` or compact's `<file>` names, through a symbolic link (the journal is beside
 * the link's target). A path with neither file nor journal is a bad argument (exit 2), as a
 * mistyped option is: opening it would create an empty store there and copy or compact nothing.
 */
async function existingStore(
  spec: string,
  location: Location & { kind: 'file' | 'sqlite' },
): Promise<string> {
  const target = await linkTarget(location.path)
  if (!existsSync(target) && !existsSync(`${target}.journal`)) {
    throw new UsageError(`no conversations ${location.kind === 'sqlite' ? 'database' : 'file'} at ${spec}`)
  }
  return target
}

/**
 * Whether a store was ever opened under a Redis key prefix (its format key), or undefined when the
 * server cannot be asked: opening the store then says why. A source prefix without one is most
 * likely mistyped, and opening it would create a store there and copy nothing.
 */
async function redisStoreExists(url: string, keyPrefix: string): Promise<boolean | undefined> {
  return askRedis(url, async (client) => {
    // ioredis goes on with database 0 when the server refuses the URL's: ask for it again.
    await client.select(client.options.db ?? 0)
    return (await client.exists(`${keyPrefix}format`)) === 1
  })
}

/**
 * Opening a store creates files beside it even to read it (the JSON store's lock file, SQLite's
 * -wal and -shm files), so a source on a read-only file system cannot be opened: the usual advice
 * (point path at a writable location) does not fit a source, so this says to migrate from a copy.
 * The source is not opened without its lock instead: the same files may be writable through
 * another mount, where a running bot could be changing them as they are read.
 */
async function readOnlySource(error: unknown, spec: string, target: string): Promise<never> {
  const dir = dirname(target)
  try {
    await access(dir, constants.W_OK)
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'EROFS') {
      const companion = where(spec).kind === 'sqlite' ? `${target}-wal` : `${target}.journal`
      const files = [target, ...(existsSync(companion) ? [companion] : [])].map((f) => JSON.stringify(f))
      throw new MemoryError(
        'io',
        `cannot open the source ${JSON.stringify(spec)}: ${JSON.stringify(dir)} is on a read-only file system, and opening a store creates files beside it. ` +
          `Nothing was changed. Copy ${files.join(' and ')} to a writable directory and migrate from the copy.`,
        { cause: error, details: { file: target, errno: 'EROFS' } },
      )
    }
  }
  throw error
}

/**
 * A source too large for this heap: the usual advice (run this very command) would go round in
 * circles, so it names the heap the migration needs instead.
 */
function withHeapAdvice(error: unknown, from: string, to: string): unknown {
  if (!isMemoryError(error, 'too-large')) return error
  const { bytes, heapNeeded, heapUsed } = error.details as {
    bytes?: number
    heapNeeded?: number
    heapUsed?: number
  }
  const mb = (n: number) => Math.ceil(n / 2 ** 20)
  const size =
    heapNeeded !== undefined && heapUsed !== undefined ? String(mb(heapUsed + heapNeeded) + 256) : '<MB>'
  return new MemoryError(
    'too-large',
    `${JSON.stringify(error.details.file ?? from)} ${bytes === undefined ? 'is' : `holds ${mb(bytes)} MB of conversations, which is`} too large for this process's heap` +
      `${heapNeeded === undefined ? '' : ` (about ${mb(heapNeeded)} MB needed)`}. Nothing was copied. ` +
      `Run the migration again with more heap: NODE_OPTIONS=--max-old-space-size=${size} npx @taurobot/memory migrate ${from} ${to} (with the same options).`,
    { cause: error, details: error.details },
  )
}

/** `2/3 conversations, 5/1200 messages`: done of total, the noun agreeing with the total. */
function progressLine(p: MigrateProgress): string {
  return `${p.conversations}/${count(p.totalConversations, 'conversation')}, ${p.messages}/${count(p.totalMessages, 'message')}`
}

function reporter(stream: NodeJS.WriteStream): { update(p: MigrateProgress): void; end(): void } {
  if (stream.isTTY) {
    const width = 30
    return {
      update(p) {
        const ratio = p.totalConversations === 0 ? 1 : p.conversations / p.totalConversations
        const filled = Math.round(ratio * width)
        stream.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${progressLine(p)}`,
        )
      },
      end() {
        stream.write('\n')
      },
    }
  }
  // Not a terminal (a log file, CI): a plain line at each tenth, never a carriage return.
  let lastTenth = -1
  return {
    update(p) {
      const tenth =
        p.totalConversations === 0 ? 10 : Math.floor((p.conversations / p.totalConversations) * 10)
      if (tenth === lastTenth) return
      lastTenth = tenth
      stream.write(`migrated ${progressLine(p)}\n`)
    },
    end() {},
  }
}

const MIGRATE_OPTIONS = {
  'key-prefix': { type: 'string' },
  'from-key-prefix': { type: 'string' },
  'to-key-prefix': { type: 'string' },
  'max-messages': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  replace: { type: 'boolean', default: false },
} as const

const COMPACT_OPTIONS = {
  'max-messages': { type: 'string' },
} as const

/**
 * parseArgs, with an unknown option named (and the likely one) instead of Node's advice about `--`,
 * and a number option given a negative value or none refused with its own check's words instead of
 * Node's advice to write `--max-messages=-XYZ`.
 */
function parseCommandArgs<T extends typeof MIGRATE_OPTIONS | typeof COMPACT_OPTIONS>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, allowPositionals: true, options })
  } catch (error) {
    const message = (error as Error).message
    const noValue = /^Option '--([^' ]+)(?: <value>)?' argument (?:is ambiguous|missing)/.exec(message)?.[1]
    if (noValue !== undefined && noValue in NUMBER_CHECKS) {
      const check = NUMBER_CHECKS[noValue as keyof typeof NUMBER_CHECKS]
      // What follows the option: a negative number, another option, or nothing at all.
      const next = args[args.indexOf(`--${noValue}`) + 1]
      if (next === undefined) throw new UsageError(`--${noValue} needs a value: ${check.wanted}`)
      check.parse(next)
    }
    const unknown = /Unknown option '--([^'=]+)/.exec(message)?.[1]
    if (unknown === undefined) throw error
    const near = closest(unknown, Object.keys(options))
    throw new UsageError(
      `unknown option --${unknown}${near === undefined ? '' : `: did you mean --${near}?`}`,
    )
  }
}

/** The value of --max-messages: a positive integer, or undefined when not given. */
function maxMessagesOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--max-messages must be ${NUMBER_CHECKS['max-messages'].wanted}, got ${text}`)
  }
  return value
}

/** The value of --max-message-bytes, DEFAULT_MESSAGE_BYTES when not given. */
function maxMessageBytesOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MESSAGE_BYTES
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_BATCH_BYTES) {
    throw new UsageError(
      `--max-message-bytes must be ${NUMBER_CHECKS['max-message-bytes'].wanted}, got ${text}`,
    )
  }
  return value
}

/** The options that take a number: what they take, and the check of their value. */
const NUMBER_CHECKS = {
  'max-messages': { wanted: 'a positive integer', parse: maxMessagesOption },
  'max-message-bytes': {
    wanted: `a positive integer of at most ${MAX_BATCH_BYTES} (256 MiB)`,
    parse: maxMessageBytesOption,
  },
} as const

/** Runs `compact`, resolving with the exit code. */
async function runCompactCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMPACT_OPTIONS)
  const file = positionals.length === 1 ? positionals[0] : undefined
  if (file === undefined) throw new UsageError('compact needs exactly one argument: <file>')
  const maxMessages = maxMessagesOption(values['max-messages'])
  const location = where(file)
  if (location.kind !== 'file') {
    throw new UsageError(
      `compact rewrites a JSON conversations file; ${describe(file)} is ${location.kind === 'sqlite' ? 'a SQLite database' : 'a Redis store'}, which keeps every message in place and needs no compaction`,
    )
  }
  await existingStore(file, location)
  // A file: URL names its file, as for migrate.
  const line = await runCompact(
    location.path,
    (message) => process.stderr.write(`taurobot-memory: warning: ${message}\n`),
    maxMessages,
  )
  process.stdout.write(`${line}\n`)
  return 0
}

/** Runs `migrate`, resolving with the exit code (0, or 130/143 when stopped by a signal). */
async function runMigrate(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, MIGRATE_OPTIONS)
  const [from, to, ...rest] = positionals
  if (from === undefined || to === undefined || rest.length > 0) {
    throw new UsageError('migrate needs exactly two arguments: <from> <to>')
  }
  const maxMessages = maxMessagesOption(values['max-messages'])
  const maxMessageBytes = maxMessageBytesOption(values['max-message-bytes'])
  // Both places are checked before either is opened, so a bad <to> creates nothing at <from>.
  where(from)
  where(to)
  const stores: Memory[] = []
  const interrupt = catchInterrupt()
  try {
    for (const option of ['key-prefix', 'from-key-prefix', 'to-key-prefix'] as const) {
      if (values[option] === '') throw new UsageError(`--${option} ${EMPTY_PREFIX_REASON}`)
    }
    const fromPrefix = values['from-key-prefix'] ?? values['key-prefix']
    const toPrefix = values['to-key-prefix'] ?? values['key-prefix']
    if (values['key-prefix'] !== undefined && !isRedisUrl(from) && !isRedisUrl(to)) {
      throw new UsageError(`--key-prefix applies to a Redis URL, got the files ${from} and ${to}`)
    }
    for (const [option, spec] of [
      ['from-key-prefix', from],
      ['to-key-prefix', to],
    ] as const) {
      if (values[option] !== undefined && !isRedisUrl(spec)) {
        throw new UsageError(`--${option} applies to a Redis URL, got the file ${spec}`)
      }
    }
    const same = await sameStore(
      { location: where(from), keyPrefix: fromPrefix },
      { location: where(to), keyPrefix: toPrefix },
    )
    if (same) {
      throw new UsageError(
        `<from> and <to> are the same store: give another <to>${isRedisUrl(to) ? ' or --to-key-prefix' : ''}`,
      )
    }
    const shared = await sharedKeys(
      { location: where(from), keyPrefix: fromPrefix },
      { location: where(to), keyPrefix: toPrefix },
    )
    if (shared !== undefined) {
      throw new UsageError(
        `the key prefixes ${JSON.stringify(fromPrefix ?? DEFAULT_PREFIX)} of <from> and ${JSON.stringify(toPrefix ?? DEFAULT_PREFIX)} of <to> share keys on this Redis database: ` +
          `the longer one goes on with ${JSON.stringify(shared)}, as the shorter one's own keys do, so writing one store would change or delete the other's. Give another --to-key-prefix`,
      )
    }
    // The source keeps whatever it holds: trimming it as it is read would lose messages silently.
    const source = await open(from, 'from', fromPrefix, Number.MAX_SAFE_INTEGER).catch((error: unknown) => {
      throw withHeapAdvice(error, from, to)
    })
    stores.push(source)
    // A --max-messages below the longest conversation is refused before <to> is opened, naming it.
    if (maxMessages !== undefined) {
      const lengths: Array<{ id: string; messages: number }> = []
      for await (const summary of source.conversations())
        if (summary.messages > maxMessages) lengths.push({ id: summary.id, messages: summary.messages })
      refuseLonger(lengths, maxMessages, 'destination')
    }
    const fresh = await freshFiles(where(to))
    // The destination keeps every message too: what it held before the migration (a JSON file
    // trims its longer conversations as it loads) as well as what is copied into it.
    const destination = await open(to, 'to', toPrefix, Number.MAX_SAFE_INTEGER, maxMessageBytes).catch(
      (error: unknown) => {
        throw withHeapAdvice(error, from, to)
      },
    )
    stores.push(destination)
    const progress = reporter(process.stderr)
    let result: MigrateResult
    try {
      result = await migrate(source, destination, {
        replace: values.replace,
        onProgress: (p) => progress.update(p),
        signal: interrupt.signal,
      })
    } catch (error) {
      progress.end()
      await fresh.removeIfEmpty(destination).catch(() => {})
      if (
        interrupt.received === undefined ||
        !isMemoryError(error, 'migration') ||
        !('copied' in error.details)
      )
        throw error
      const { copied, totalConversations } = error.details as { copied: number; totalConversations: number }
      await destination.close()
      process.stderr.write(
        `taurobot-memory: interrupted by ${interrupt.received}: copied ${copied} of ${count(totalConversations, 'conversation')} to ${describe(to)}` +
          `${copied === 0 ? '' : ', each complete, and the destination closed properly'}. Run the same command again with --replace to copy every conversation.\n`,
      )
      return interrupt.exitCode
    }
    progress.end()
    await destination.close()
    const empty =
      result.emptyConversations === 0
        ? ''
        : ` (${count(result.emptyConversations, 'empty conversation')} of the source not copied: a store keeps no conversation without messages)`
    process.stdout.write(
      `migrated ${count(result.conversations, 'conversation')}, ${count(result.messages, 'message')} from ${describe(from)} to ${describe(to)}; counts match${empty}\n`,
    )
    return 0
  } finally {
    for (const store of stores) await store.close().catch(() => store.destroy())
    interrupt.dispose()
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (
    command === undefined ||
    command === '-h' ||
    command === '--help' ||
    args.includes('--help') ||
    args.includes('-h')
  ) {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  try {
    if (command === 'compact') return await runCompactCommand(args)
    if (command !== 'migrate') throw new UsageError(`unknown command ${JSON.stringify(command)}`)
    return await runMigrate(args)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      // The reason alone: the whole usage text would push it out of sight.
      process.stderr.write(
        `taurobot-memory: ${(error as Error).message}\nRun \`taurobot-memory --help\` for the usage.\n`,
      )
      return 2
    }
    process.stderr.write(`taurobot-memory: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
