// What the package publishes on node:diagnostics_channel, for APM tools and for the exporter of
// `@taurobot/memory/metrics`. Payloads carry counts, sizes, durations and error codes, never a
// message and never a conversation id: a subscriber that logs them whole leaks nothing a user
// wrote. Every publisher checks `hasSubscribers` first, so a process where nobody listens builds
// no payload at all.
import { channel, tracingChannel } from 'node:diagnostics_channel'
import type { AppendResult, BatchEntry } from './backend.js'
import { MemoryError, type MemoryErrorCode } from './errors.js'

/**
 * The names of the channels `@taurobot/memory` publishes on. `save` is a tracing channel: its
 * events are `tracing:taurobot:memory:save:start`, `:end`, `:asyncStart`, `:asyncEnd` and `:error`.
 */
export const memoryChannels = {
  save: 'taurobot:memory:save',
  compaction: 'taurobot:memory:compaction',
  error: 'taurobot:memory:error',
  open: 'taurobot:memory:open',
  close: 'taurobot:memory:close',
} as const

/** How a store writes: `batched` or `strict` (its `durability` option). */
export type MemoryWriteMode = 'batched' | 'strict'

/**
 * The context of one backend write, traced on `taurobot:memory:save`. The fields up to `messages`
 * are set at `start`; `written`, `bytes` and `durationMs` once the write succeeded (`asyncStart`,
 * `asyncEnd`); `code`, `durationMs` and `error` once it failed (`error`, `asyncStart`, `asyncEnd`).
 */
export interface MemorySaveContext {
  /** The store's number, unique in the process (see {@link MemoryOpenEvent}). */
  readonly store: number
  /** The backend's name (`file`, `sqlite`, `redis`, `memory`, or a custom backend's). */
  readonly backend: string
  /** The store's durability mode. */
  readonly mode: MemoryWriteMode
  /** Conversations in this write. */
  readonly conversations: number
  /** Changes in this write: messages added, plus upserts and removes. */
  readonly messages: number
  /** Of `messages`, those written: fewer when the backend refused some conversations. */
  written?: number
  /** Bytes the backend wrote (an estimate for a remote backend). */
  bytes?: number
  /** Wall-clock duration of the write, in milliseconds. */
  durationMs?: number
  /** The `MemoryError` code the store reports for a failed write (`io` for any other error). */
  code?: MemoryErrorCode
  /** Set by Node on `error`: what the backend threw. Its message may name a file or a conversation. */
  error?: unknown
}

/** Published on `taurobot:memory:compaction` after the file backend rewrote its snapshot. */
export interface MemoryCompactionEvent {
  /** The store's number, or `undefined` for a backend used without a store (the CLI). */
  readonly store: number | undefined
  /** Always `file`. */
  readonly backend: string
  /** Bytes of the new snapshot. */
  readonly bytes: number
  /** Wall-clock duration of the rewrite, in milliseconds. */
  readonly durationMs: number
  /** `true` for a rewrite started while the store was in use, `false` at open or close. */
  readonly background: boolean
}

/** Published on `taurobot:memory:error` for every error a store reports on its `error` event. */
export interface MemoryErrorEvent {
  readonly store: number
  readonly backend: string
  /** The error's `MemoryError` code, or `unknown` for an error of another class. */
  readonly code: MemoryErrorCode | 'unknown'
  /** The error itself. Its message and details may name a file or a conversation. */
  readonly error: unknown
}

/** Published on `taurobot:memory:open` once a store is open. */
export interface MemoryOpenEvent {
  /**
   * The store's number: 1 for the first store opened in the process, then 2, and so on (shared
   * by every copy of the package). The same number is in every other payload of this store.
   */
  readonly store: number
  readonly backend: string
  readonly mode: MemoryWriteMode
}

/** Published on `taurobot:memory:close` once a store is closed (`close()`) or destroyed. */
export interface MemoryCloseEvent {
  readonly store: number
  readonly backend: string
  /** `true` after `destroy()`, which drops pending messages. */
  readonly destroyed: boolean
}

/**
 * What a store shows of itself to the exporter, under a registered symbol so that the exporter
 * of another copy of the package finds it too. Not part of the public API.
 */
export interface StoreProbe {
  readonly id: number
  readonly backend: string
  readonly mode: MemoryWriteMode
  /** Messages accepted and not yet durable. */
  pending(): number
}

/** The key of a store's {@link StoreProbe}. */
export const STORE_PROBE: unique symbol = Symbol.for('@taurobot/memory.store-probe')

const saveChannel = tracingChannel<unknown, MemorySaveContext>(memoryChannels.save)
const compactionChannel = channel(memoryChannels.compaction)
const errorChannel = channel(memoryChannels.error)
const openChannel = channel(memoryChannels.open)
const closeChannel = channel(memoryChannels.close)

/** Which store a backend belongs to, so a backend's own events (compaction) name it. */
const storeOfBackend = new WeakMap<object, number>()

const COUNTER = Symbol.for('@taurobot/memory.store-count')

/** The next store number; the counter lives on globalThis so that two copies never reuse one. */
function nextStoreId(): number {
  const holder = globalThis as unknown as Record<typeof COUNTER, { next: number } | undefined>
  let counter = holder[COUNTER]
  if (counter === undefined) {
    counter = { next: 1 }
    holder[COUNTER] = counter
  }
  return counter.next++
}

/** A new store's probe; `backend` is remembered as belonging to it. */
export function createProbe(
  backend: { readonly name: string },
  mode: MemoryWriteMode,
  pending: () => number,
): StoreProbe {
  const id = nextStoreId()
  storeOfBackend.set(backend, id)
  return { id, backend: backend.name, mode, pending }
}

function saveCode(error: unknown): MemoryErrorCode {
  // The batcher reports anything but a MemoryError as `io`: the same code here.
  return error instanceof MemoryError ? error.code : 'io'
}

/** The context of a write of `batch` as it starts. */
function contextOf(probe: StoreProbe, batch: readonly BatchEntry[]): MemorySaveContext {
  let messages = 0
  for (const entry of batch) messages += entry.operations?.length ?? entry.messages.length
  return {
    store: probe.id,
    backend: probe.backend,
    mode: probe.mode,
    conversations: batch.length,
    messages,
  }
}

/** Completes `context` once the write succeeded: what it wrote and how long it took. */
function settled(
  context: MemorySaveContext,
  batch: readonly BatchEntry[],
  result: AppendResult,
  durationMs: number,
): void {
  context.durationMs = durationMs
  context.bytes = result.bytes
  let refused = 0
  if (result.failed !== undefined) {
    for (const entry of batch) {
      if (result.failed.has(entry.id)) refused += entry.operations?.length ?? entry.messages.length
    }
  }
  context.written = context.messages - refused
}

/** Completes `context` once the write failed. */
function failed(context: MemorySaveContext, error: unknown, durationMs: number): void {
  context.durationMs = durationMs
  context.code = saveCode(error)
}

/**
 * Calls `append(batch)` in the whole save trace, for a write {@link saveTrace} says is traced
 * `'whole'`. `started` is the performance.now() the caller read just before (the store times each
 * write itself).
 */
export function traceSave(
  probe: StoreProbe,
  batch: BatchEntry[],
  append: (batch: BatchEntry[]) => Promise<AppendResult>,
  started: number,
): Promise<AppendResult> {
  const context = contextOf(probe, batch)
  let result: AppendResult | undefined
  // The traced function resolves to nothing: Node would put its result in the context, and an
  // AppendResult names the conversations the backend refused.
  const write = async (): Promise<void> => {
    try {
      result = await append(batch)
    } catch (error) {
      failed(context, error, performance.now() - started)
      throw error
    }
    settled(context, batch, result, performance.now() - started)
  }
  return saveChannel.tracePromise(write, context).then(() => result as AppendResult)
}

/**
 * How a write of `batch` is traced on `taurobot:memory:save`: `undefined` when nobody listens (the
 * only cost is this check), `'whole'` when someone listens to `start`, `end` or `asyncStart` (call
 * {@link traceSave}), else the context of a write traced by its outcome only. Only `asyncEnd` and
 * `error` are listened to then (the metrics exporter), and the write is not wrapped in
 * tracePromise(): the store calls the backend directly and publishes the outcome itself
 * ({@link publishSaved}, {@link publishSaveFailed}) with the same payloads in the same order,
 * without the promises, closures and clock reads of the wrapping, which cost more per write than
 * an in-process write itself. A store bound to `start` makes its `hasSubscribers` true, so such a
 * write always runs in tracePromise().
 */
export function saveTrace(
  probe: StoreProbe,
  batch: readonly BatchEntry[],
): MemorySaveContext | 'whole' | undefined {
  if (!saveChannel.hasSubscribers) return undefined
  const { start, end, asyncStart } = saveChannel
  if (start.hasSubscribers || end.hasSubscribers || asyncStart.hasSubscribers) return 'whole'
  return contextOf(probe, batch)
}

/** Publishes the outcome of a write traced by {@link saveTrace} that succeeded. */
export function publishSaved(
  context: MemorySaveContext,
  batch: readonly BatchEntry[],
  result: AppendResult,
  durationMs: number,
): void {
  settled(context, batch, result, durationMs)
  // As tracePromise() leaves it: the write resolves to nothing (see traceSave).
  ;(context as { result?: unknown }).result = undefined
  publishAsyncEvents(context)
}

/** Publishes the outcome of a write traced by {@link saveTrace} that failed. */
export function publishSaveFailed(context: MemorySaveContext, error: unknown, durationMs: number): void {
  failed(context, error, durationMs)
  context.error = error
  saveChannel.error.publish(context)
  publishAsyncEvents(context)
}

// asyncStart too, as tracePromise() publishes it before asyncEnd: nobody listened to it when the
// write began, but a tool that subscribes while the write runs would otherwise get an asyncEnd
// without it. Without subscribers the publish does nothing.
function publishAsyncEvents(context: MemorySaveContext): void {
  saveChannel.asyncStart.publish(context)
  saveChannel.asyncEnd.publish(context)
}

/** Publishes a snapshot rewrite of the file backend `backend`. */
export function publishCompaction(
  backend: object,
  bytes: number,
  durationMs: number,
  background: boolean,
): void {
  if (!compactionChannel.hasSubscribers) return
  const event: MemoryCompactionEvent = {
    store: storeOfBackend.get(backend),
    backend: 'file',
    bytes,
    durationMs,
    background,
  }
  compactionChannel.publish(event)
}

/** Publishes an error a store reports on its `error` event. */
export function publishError(probe: StoreProbe, error: unknown): void {
  if (!errorChannel.hasSubscribers) return
  const event: MemoryErrorEvent = {
    store: probe.id,
    backend: probe.backend,
    code: error instanceof MemoryError ? error.code : 'unknown',
    error,
  }
  errorChannel.publish(event)
}

/** Publishes that a store is open. */
export function publishOpen(probe: StoreProbe): void {
  if (!openChannel.hasSubscribers) return
  const event: MemoryOpenEvent = { store: probe.id, backend: probe.backend, mode: probe.mode }
  openChannel.publish(event)
}

/** Publishes that a store is closed or destroyed. */
export function publishClose(probe: StoreProbe, destroyed: boolean): void {
  if (!closeChannel.hasSubscribers) return
  const event: MemoryCloseEvent = { store: probe.id, backend: probe.backend, destroyed }
  closeChannel.publish(event)
}
