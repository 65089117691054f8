// openMemory's options checked and resolved up front: every value named in its error, the backend
// chosen from `path` or given, and the defaults filled in.
import type { Backend, RecoveredInfo } from './backend.js'
import { fileBackend } from './backends/file/file-backend.js'
import { redisBackend } from './backends/redis/redis-backend.js'
import { sqliteBackend } from './backends/sqlite/sqlite-backend.js'
import type { SaveInfo } from './batch.js'
import { locate } from './location.js'
import { show } from './message.js'
import {
  booleanOption,
  knownOptions,
  nonEmptyString,
  oneOf,
  optionalFunction,
  positiveInteger,
} from './options.js'

const OPTION_NAMES = new Set([
  'path',
  'backend',
  'maxMessages',
  'maxMessageBytes',
  'saveEvery',
  'flushIntervalMs',
  'durability',
  'maxPending',
  'maxPendingBytes',
  'maxBatchBytes',
  'flushOnExit',
  'onSave',
  'onError',
  'onRecovered',
  'onWarning',
])

const DEFAULT_PATH = 'memory/conversations.json'
export const DAY_MS = 86_400_000
const MAX_TIMER_MS = 2_147_483_647
// Far below V8's longest string (about 512 MB, the bound of a journal record's text) and Redis's
// 512 MB bulk string, also when every character of a message takes several bytes.
export const DEFAULT_MESSAGE_BYTES = 1_048_576
export const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024
export const MAX_BATCH_BYTES = 256 * 1024 * 1024
export const DEFAULT_PENDING_BYTES = 64 * 1024 * 1024
// What an upsert or a remove spends in a journal record or command beyond its message or id.
export const OPERATION_OVERHEAD = 24

export interface ResolvedOptions {
  backend: Backend
  maxMessages: number
  maxMessageBytes: number
  saveEvery: number
  flushIntervalMs: number
  durability: 'batched' | 'strict'
  maxPending: number
  maxPendingBytes: number
  maxBatchBytes: number
  flushOnExit: boolean
  onSave: ((info: SaveInfo) => void) | undefined
  onError: ((error: unknown) => void) | undefined
  onRecovered: ((info: RecoveredInfo) => void) | undefined
  onWarning: ((message: string) => void) | undefined
}

const FILE_OPTION = 'fileBackend(): openMemory({ backend: fileBackend({ path, ... }) })'
const SQLITE_OPTION =
  "sqliteBackend() from '@taurobot/memory/sqlite': openMemory({ backend: sqliteBackend({ path, ... }) })"
const REDIS_OPTION =
  "redisBackend() from '@taurobot/memory/redis': openMemory({ backend: redisBackend({ url, ... }) })"
// Backend options given to openMemory by mistake: the error says where they go.
const BACKEND_OPTIONS: Record<string, string> = {
  compactionRatio: FILE_OPTION,
  compactionMinBytes: FILE_OPTION,
  compactionWorker: FILE_OPTION,
  journalSync: FILE_OPTION,
  compactOnClose: FILE_OPTION,
  busyTimeoutMs: SQLITE_OPTION,
  worker: SQLITE_OPTION,
  database: SQLITE_OPTION,
  url: REDIS_OPTION,
  client: REDIS_OPTION,
  keyPrefix: REDIS_OPTION,
  buckets: REDIS_OPTION,
  connectTimeoutMs: REDIS_OPTION,
  commandTimeoutMs: REDIS_OPTION,
  waitReplicas: REDIS_OPTION,
  waitTimeoutMs: REDIS_OPTION,
}

export function resolveOptions(options: unknown): ResolvedOptions {
  const o = knownOptions(options, OPTION_NAMES, BACKEND_OPTIONS)
  if (o.path !== undefined && o.backend !== undefined) {
    throw new TypeError(
      'options path and backend cannot be used together: pass the path to the backend instead',
    )
  }
  let backend: Backend | undefined
  let path: string | undefined
  if (o.backend !== undefined) {
    const b = o.backend as Partial<Backend> | null
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.open !== 'function' ||
      typeof b.append !== 'function' ||
      typeof b.read !== 'function' ||
      typeof b.clear !== 'function' ||
      typeof b.conversations !== 'function' ||
      typeof b.close !== 'function'
    ) {
      throw new TypeError(`backend must be a Backend such as memoryBackend(), got ${show(o.backend)}`)
    }
    backend = b as Backend
  } else {
    path = nonEmptyString('path', o.path, DEFAULT_PATH)
  }
  const durability = oneOf('durability', o.durability, ['batched', 'strict'], 'batched')
  const flushOnExit = booleanOption('flushOnExit', o.flushOnExit, true)
  const saveEvery = positiveInteger('saveEvery', o.saveEvery, 5)
  const maxPending = positiveInteger('maxPending', o.maxPending, 10_000)
  const onSave = optionalFunction<(info: SaveInfo) => void>('onSave', o.onSave)
  const onError = optionalFunction<(error: unknown) => void>('onError', o.onError)
  const onRecovered = optionalFunction<(info: RecoveredInfo) => void>('onRecovered', o.onRecovered)
  const onWarning = optionalFunction<(message: string) => void>('onWarning', o.onWarning)
  const maxMessages = positiveInteger('maxMessages', o.maxMessages, 1000)
  const maxMessageBytes = positiveInteger('maxMessageBytes', o.maxMessageBytes, DEFAULT_MESSAGE_BYTES)
  const maxBatchBytes = positiveInteger(
    'maxBatchBytes',
    o.maxBatchBytes,
    DEFAULT_BATCH_BYTES,
    MAX_BATCH_BYTES,
  )
  const maxPendingBytes = positiveInteger('maxPendingBytes', o.maxPendingBytes, DEFAULT_PENDING_BYTES)
  for (const [name, value] of [
    ['maxBatchBytes', maxBatchBytes],
    ['maxPendingBytes', maxPendingBytes],
  ] as const) {
    if (maxMessageBytes > value) {
      throw new RangeError(
        `maxMessageBytes must not exceed ${name}, got ${maxMessageBytes} > ${value}: a message of maxMessageBytes could never be written. Raise ${name} or lower maxMessageBytes`,
      )
    }
  }
  const flushIntervalMs = positiveInteger('flushIntervalMs', o.flushIntervalMs, 1000, MAX_TIMER_MS)
  return {
    backend: backend ?? backendAt(path ?? DEFAULT_PATH),
    maxMessages,
    maxMessageBytes,
    saveEvery,
    flushIntervalMs,
    durability,
    maxPending,
    maxPendingBytes,
    maxBatchBytes,
    flushOnExit,
    onSave,
    onError,
    onRecovered,
    onWarning,
  }
}

/** The backend `openMemory({ path })` uses for `path` (see {@link MemoryOptions.path}). */
export function backendAt(path: string): Backend {
  const location = locate(path)
  switch (location.kind) {
    case 'redis':
      return redisBackend({ url: location.url })
    case 'sqlite':
      return sqliteBackend({ path: location.path })
    case 'file':
      return fileBackend({ path: location.path })
  }
}
