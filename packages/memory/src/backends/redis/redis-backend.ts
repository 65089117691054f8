// Over 400 lines on purpose: one class holds a connection's state (client, writer id, sequence
// numbers of the writes it may have to resend) that append, read, clear, prune and close all use.
// Options, the client loader, key layout, scripts, errors, list parsing and the database check
// are modules of their own.
import { randomUUID } from 'node:crypto'
import type { Redis, RedisOptions } from 'ioredis'
import type {
  AppendResult,
  Backend,
  BackendContext,
  BackendStats,
  BatchEntry,
  ConversationSummary,
} from '../../backend.js'
import { MemoryError } from '../../errors.js'
import { type Message, show } from '../../message.js'
import { redactText, redactUrl } from '../../redact.js'
import { type OverLimit, overLimitWarning } from '../over-limit.js'
import { type AppendGroup, appendArguments, entrySize, numberedItems, planAppend } from './append-batch.js'
import { ConnectTimeout, unreachable } from './connect-failure.js'
import { configuredDatabase, databaseRefused, isSelectRefused } from './database.js'
import { LAYOUT_VERSION, RedisLayout } from './layout.js'
import { parseItems } from './list-items.js'
import { loadIoredis } from './load-ioredis.js'
import {
  advice,
  errorText,
  FOREIGN_KEY_ADVICE,
  isNoScript,
  isReplyError,
  isWrongType,
  safeCause,
  typeName,
} from './redis-errors.js'
import {
  CALL_BYTES,
  LIST_CHUNK,
  type RedisBackendOptions,
  type RedisClient,
  type ResolvedOptions,
  resolveOptions,
} from './redis-options.js'
import { APPEND, CLEAR, PRUNE, RAISE_LIMIT, type RedisScript } from './scripts.js'

/**
 * Creates a Redis backend: every process that opens a store on the same Redis and key prefix
 * shares the conversations. Needs the `ioredis` package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { openMemory } from '@taurobot/memory'
 * import { redisBackend } from '@taurobot/memory/redis'
 *
 * const memory = await openMemory({ backend: redisBackend({ url: process.env.REDIS_URL }) })
 * ```
 */
export function redisBackend(options?: RedisBackendOptions): Backend {
  return new RedisBackend(resolveOptions(options))
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string | Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(typeof message === 'string' ? new Error(message) : message), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

class RedisBackend implements Backend {
  readonly name = 'redis'
  readonly operations = true
  private client: RedisClient | undefined
  private owned = false
  private layout: RedisLayout
  private maxMessages = 1000
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new'
  private readonly writerId = randomUUID()
  private nextSeq = 1
  // The same message objects (and remove operations) come back when the store retries a failed
  // batch: they keep their sequence numbers, which is how the append script recognises what an
  // earlier attempt applied (see numberedItems).
  // Only a failed write records them, so a write that succeeds at once keeps no map at all.
  private resent: WeakMap<object, number> | undefined
  private bytesWritten = 0
  private lastError: unknown
  private context: BackendContext | undefined
  // The server's refusal of the SELECT ioredis sent at the last connect of our own client: that
  // connection is on database 0, so nothing may be sent on it (see createClient).
  private selectRefusal: unknown
  // The look for conversations longer than maxMessages, started after open; resolves to the
  // error that stopped it, if any. The first write waits for it (see lookOverLimit).
  private overLimitCheck: Promise<MemoryError | undefined> | undefined
  // maxMessages is recorded under the prefix before this store's first write, not at open: a
  // store that only reads (the source of a migration, opened with no limit) cannot lengthen a
  // conversation, and recording its limit would make every later open look (see lookOverLimit).
  private limitToRecord: number | undefined
  // After an outage the store would otherwise wait for its timer (flushIntervalMs) to retry.
  private readonly onReady = () => {
    if (this.state === 'open') this.context?.requestFlush?.()
  }

  constructor(private readonly options: ResolvedOptions) {
    this.layout = new RedisLayout(options.keyPrefix, options.buckets ?? 16)
  }

  private get where(): string {
    if (!this.owned && this.client !== undefined) {
      if (this.client.isCluster) return 'the given Redis Cluster client'
      const { host, port } = (this.client as Redis).options
      return `the given Redis client (${host}:${port})`
    }
    return redactUrl(this.options.url)
  }

  async open(context: BackendContext): Promise<void> {
    if (this.state !== 'new') {
      throw new MemoryError(
        'closed',
        'this Redis backend was already opened once. Create a new one with redisBackend().',
      )
    }
    this.state = 'opening'
    this.maxMessages = context.maxMessages
    try {
      this.client = this.options.client ?? (await this.createClient())
      this.owned = this.options.client === undefined
      await this.connect(this.client)
      await this.checkDatabase(this.client)
      const created = await this.checkFormat(this.client)
      const recorded = created ? undefined : await this.recordedLimit(this.client)
      // Nothing can be over the limit when this open wrote the format key (no store wrote under
      // the prefix before), or when no store opened here with a larger maxMessages: then the
      // O(conversations) look is skipped. A store of an earlier version recorded no limit.
      const longerPossible = !created && (recorded === undefined || recorded > this.maxMessages)
      // What is there is recorded once a look has found it (lookOverLimit): a look cut short (a
      // close, an outage) must not leave a record that lets the next open with this limit skip it.
      // This store's own limit, when larger than the record, before its first write; a store that
      // just created the prefix has written already, and records it now.
      if (created) await this.raiseLimit(this.client, this.maxMessages)
      else if (recorded === undefined || recorded < this.maxMessages) this.limitToRecord = this.maxMessages
      this.context = context
      this.client.on('ready', this.onReady)
      if (longerPossible) this.overLimitCheck = this.lookOverLimit(this.client, context)
    } catch (error) {
      this.state = 'closed'
      if (this.owned) this.client?.disconnect()
      if (error instanceof MemoryError || error instanceof RangeError) throw error
      const refusal = isSelectRefused(error) ? error : this.selectRefusal
      if (refusal !== undefined && this.client !== undefined) {
        throw databaseRefused(
          this.where,
          configuredDatabase(this.client),
          refusal,
          'at open',
          'nothing was written',
        )
      }
      // Our own timeout says more than an error of an earlier attempt that ioredis retried.
      const cause = isReplyError(error) || error instanceof ConnectTimeout ? error : (this.lastError ?? error)
      if (!isReplyError(cause)) {
        const { url, connectTimeoutMs } = this.options
        throw unreachable(this.where, this.client, url, this.owned, cause, connectTimeoutMs)
      }
      throw new MemoryError(
        'backend-unavailable',
        `Redis at ${this.where} refused to open the store: ${redactText(errorText(cause)).replace(/\.$/, '')}.${advice(cause) || " Check the server's configuration and the permissions of the Redis user."}`,
        { cause: safeCause(cause), details: { url: this.where } },
      )
    }
    this.state = 'open'
    await this.checkEviction(this.client, context)
  }

  // A Redis that evicts any key under memory pressure can drop whole conversations without an
  // error. Managed services often refuse CONFIG: then there is nothing to check.
  private async checkEviction(client: RedisClient, context: BackendContext): Promise<void> {
    let policy: unknown
    try {
      const ms = this.options.connectTimeoutMs
      const reply = await withTimeout(client.call('CONFIG', 'GET', 'maxmemory-policy'), ms, 'no answer')
      policy = (reply as unknown[])[1]
    } catch {
      return
    }
    if (typeof policy === 'string' && policy.startsWith('allkeys-')) {
      context.warn(
        `[@taurobot/memory] Redis at ${this.where} may evict any key when it runs out of memory (maxmemory-policy ${policy}), so conversations could disappear without an error. Set maxmemory-policy to noeviction: a full Redis then refuses writes, and the store keeps and retries them.`,
      )
    }
  }

  // ioredis selects the database when it connects but goes on, on database 0, when the server
  // refuses (it only emits 'error'): ask again and let a refusal fail open.
  private async checkDatabase(client: RedisClient): Promise<void> {
    const db = configuredDatabase(client)
    if (db !== 0) await withTimeout(client.select(db), this.options.connectTimeoutMs, 'no answer')
  }

  // The largest maxMessages recorded under the prefix (undefined when none is).
  private async recordedLimit(client: RedisClient): Promise<number | undefined> {
    const stored = await client.get(this.layout.limit())
    return stored !== null && /^\d+$/.test(stored) ? Number(stored) : undefined
  }

  // Records `limit` as the largest maxMessages used under the prefix, unless a larger one is.
  private async raiseLimit(client: RedisClient, limit: number): Promise<void> {
    await this.script(client, RAISE_LIMIT, ['', 1, this.layout.limit(), String(limit)])
  }

  // Conversations longer than maxMessages (a store written with a larger limit) lose their oldest
  // messages at their next write: say so once, as the other backends do. The layout keeps no
  // count per conversation, so this is an LLEN per conversation (pipelined, 500 at a time, the
  // walk stats() does): open does not wait for it, the first write does (append). Resolves to the
  // error that stopped it; it never rejects.
  private async lookOverLimit(
    client: RedisClient,
    context: BackendContext,
  ): Promise<MemoryError | undefined> {
    const found: OverLimit = { conversations: 0, longestId: '', longest: 0 }
    let longestOfAll = 0
    try {
      for (let bucket = 0; bucket < this.layout.buckets; bucket++) {
        for (let start = 0; ; start += LIST_CHUNK) {
          // Closed: nothing more is sent (a given client stays the caller's) and nothing recorded.
          if (this.state === 'closed') return undefined
          // A key of another type fails only its own conversation's writes (see scripts.ts).
          const chunk = await this.listChunk(client, bucket, start, true)
          for (const { id, messages } of chunk.summaries) {
            longestOfAll = Math.max(longestOfAll, messages)
            if (messages <= this.maxMessages) continue
            found.conversations++
            if (messages > found.longest) {
              found.longest = messages
              found.longestId = id
            }
          }
          if (chunk.listed < LIST_CHUNK) break
        }
      }
    } catch (error) {
      const failure =
        error instanceof MemoryError ? error : this.failure(error, 'cannot list conversations', 'try again')
      // Without a connection the first write would fail too: it looks again (append). Any other
      // answer of the server would come again: say so and let the writes go on.
      if (failure.code === 'backend-unavailable') return failure
      if (this.state === 'open') {
        context.warn(
          `${failure.message} Conversations longer than maxMessages (${this.maxMessages}) could not be looked for: their oldest messages may be dropped at their next write without a warning.`,
        )
      }
      return undefined
    }
    // Recorded once the look is complete: the next open with as large a limit skips it, and one
    // with this limit looks again while the long conversations are there. This store's own limit
    // is recorded before its first write.
    await this.raiseLimit(client, longestOfAll).catch(() => undefined)
    if (found.conversations > 0 && this.state === 'open') {
      context.warn(
        overLimitWarning(`Redis at ${this.where}`, this.maxMessages, 'from Redis at their next write', found),
      )
    }
    return undefined
  }

  private async createClient(): Promise<Redis> {
    const RedisClass = await loadIoredis()
    const settings: RedisOptions = {
      lazyConnect: true,
      // Shown by CLIENT LIST, so an operator can tell these connections apart.
      connectionName: 'taurobot-memory',
      connectTimeout: this.options.connectTimeoutMs,
      commandTimeout: this.options.commandTimeoutMs,
      // Fail fast while the server is away: the store keeps the messages and retries, so a
      // command must not wait in an offline queue or be re-sent behind the store's back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    }
    const client = new RedisClass(this.options.url, settings)
    client.on('error', (error: unknown) => {
      this.lastError = error
      // The SELECT ioredis sends at each connect comes before its ready check, so this runs before
      // any command of ours can be sent on the connection. Drop it and reconnect (selecting again)
      // rather than write to database 0; a reconnect happens when the server restarted, which is
      // when its "databases" setting can have changed.
      if (isSelectRefused(error)) {
        this.selectRefusal = error
        // While opening, open's own SELECT fails next and open closes the connection.
        if (this.state === 'open') client.disconnect(true)
      }
    })
    client.on('connect', () => {
      this.selectRefusal = undefined
    })
    client.on('ready', () => {
      this.lastError = undefined
    })
    return client
  }

  private async connect(client: RedisClient): Promise<void> {
    const ms = this.options.connectTimeoutMs
    const timeout = new ConnectTimeout(`no answer within ${ms} ms`)
    if (client.status === 'wait') await withTimeout(client.connect(), ms, timeout)
    await withTimeout(client.ping(), ms, timeout)
  }

  // Two processes must agree on the layout, or one conversation would be split over buckets.
  // Returns true when this call wrote the format key: the store was empty.
  private async checkFormat(client: RedisClient): Promise<boolean> {
    const key = this.layout.format()
    const wanted = JSON.stringify({ version: LAYOUT_VERSION, buckets: this.layout.buckets })
    if ((await client.set(key, wanted, 'NX')) === 'OK') return true
    const stored = await client.get(key)
    let parsed: { version?: unknown; buckets?: unknown } | undefined
    try {
      parsed = stored === null ? undefined : (JSON.parse(stored) as typeof parsed)
    } catch {
      parsed = undefined
    }
    if (stored === null) return (await client.set(key, wanted, 'NX')) === 'OK'
    if (parsed?.version !== LAYOUT_VERSION || typeof parsed.buckets !== 'number') {
      throw new MemoryError(
        'corrupt',
        `the key "${key}" at ${this.where} holds ${show(stored)}, not a layout this version understands. Use another keyPrefix or a newer @taurobot/memory.`,
        { details: { key, stored } },
      )
    }
    if (parsed.buckets !== this.layout.buckets) {
      if (this.options.buckets !== undefined) {
        throw new RangeError(
          `buckets must be ${parsed.buckets}, the value the data under keyPrefix ${show(this.layout.prefix)} was written with, got ${this.options.buckets}`,
        )
      }
      this.layout = new RedisLayout(this.layout.prefix, parsed.buckets)
    }
    return false
  }

  async append(batch: readonly BatchEntry[]): Promise<AppendResult> {
    if (this.overLimitCheck !== undefined && this.context !== undefined) {
      // This write may trim: the warning about conversations over the limit must come first. A
      // look that failed in the background is done again here, and until one succeeds nothing is
      // written (the store keeps the messages and retries).
      const failed =
        (await this.overLimitCheck) && (await this.lookOverLimit(this.assertOpen(), this.context))
      if (failed) {
        this.overLimitCheck = Promise.resolve(failed)
        throw failed
      }
      this.overLimitCheck = undefined
    }
    const client = this.assertOpen()
    if (this.limitToRecord !== undefined) {
      // Before anything this store writes can be longer than what the record says.
      await this.raiseLimit(client, this.limitToRecord).catch((error: unknown) => {
        throw this.failure(
          error,
          'cannot record maxMessages',
          'in batched mode the store keeps the messages and retries',
        )
      })
      this.limitToRecord = undefined
    }
    const resent = this.resent
    const firstSeq = this.nextSeq
    const plan = planAppend(batch, this.layout, this.writerId, firstSeq, resent)
    this.nextSeq = plan.nextSeq
    const changes = plan.changes
    // Standalone, buckets share calls, so a usual flush is one script: atomic as a whole. A call
    // stays under CALL_BYTES (Redis drops a client whose query outgrows 1 GB by default); a
    // bucket is never split, so each bucket's part stays all-or-nothing, as retries require.
    // In a Cluster a script may touch one slot only: one call per bucket.
    const calls: Array<{ groups: AppendGroup[]; keys: number; bytes: number }> = []
    for (const group of plan.groups) {
      const open = calls[calls.length - 1]
      if (open !== undefined && !client.isCluster && open.bytes + group.bytes <= CALL_BYTES) {
        open.groups.push(group)
        open.keys += group.keys.length
        open.bytes += group.bytes
      } else {
        calls.push({ groups: [group], keys: group.keys.length, bytes: group.bytes })
      }
    }
    const failed = new Map<string, MemoryError>()
    try {
      const results = await Promise.allSettled(
        calls.map((call) => this.script(client, APPEND, appendArguments(call, this.maxMessages))),
      )
      for (const result of results) {
        if (result.status === 'fulfilled') this.foreignKeys(result.value, batch, failed)
      }
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (rejected !== undefined) throw rejected.reason
      if (this.options.waitReplicas > 0) await this.waitForReplicas(client as Redis)
    } catch (error) {
      // Remember every change's sequence number: the store retries with the same objects. The
      // new ones were numbered in this same order, from firstSeq on.
      const map = resent ?? new WeakMap<object, number>()
      let seq = firstSeq
      for (const entry of batch) {
        for (const item of numberedItems(entry)) if (!map.has(item)) map.set(item, seq++)
      }
      // A conversation the script skipped was not applied although the writer's record may now
      // cover its numbers: sent again, it must be numbered afresh or it would be skipped as done.
      for (const entry of batch) {
        if (failed.has(entry.id)) for (const item of numberedItems(entry)) map.delete(item)
      }
      this.resent = map
      throw this.failure(
        error,
        `cannot write ${changes} ${batch.some((entry) => entry.operations !== undefined) ? 'change' : 'message'}${changes === 1 ? '' : 's'}`,
        'in batched mode the store keeps them and retries',
      )
    }
    this.resent = undefined
    let bytes = plan.bytes
    if (failed.size === 0) {
      this.bytesWritten += bytes
      return { bytes }
    }
    for (const [i, entry] of batch.entries()) if (failed.has(entry.id)) bytes -= plan.entryBytes[i] ?? 0
    this.bytesWritten += bytes
    return { bytes, failed }
  }

  // The append script's reply lists, after its count, each conversation it skipped because a
  // key of another type was in the way: its id, that key, the key's type and the type wanted.
  private foreignKeys(reply: unknown, batch: readonly BatchEntry[], failed: Map<string, MemoryError>): void {
    if (!Array.isArray(reply)) return
    for (let i = 1; i + 3 < reply.length; i += 4) {
      const [id, key, type, wanted] = reply.slice(i, i + 4).map(String) as [string, string, string, string]
      const entry = batch.find((candidate) => candidate.id === id)
      const count = entry === undefined ? 0 : entrySize(entry)
      const what = entry?.operations === undefined ? 'message' : 'change'
      failed.set(
        id,
        new MemoryError(
          'corrupt',
          `cannot write conversation ${show(id)} at Redis ${this.where}: the key "${key}" holds ${typeName(type)}, not ${typeName(wanted)}, so its ${count} ${what}${count === 1 ? ' was' : 's were'} not written (the other conversations were). ${FOREIGN_KEY_ADVICE}`,
          { details: { url: this.where, id, key, type, messages: count } },
        ),
      )
    }
  }

  private async waitForReplicas(client: Redis): Promise<void> {
    const acknowledged = await client.wait(this.options.waitReplicas, this.options.waitTimeoutMs)
    if (acknowledged < this.options.waitReplicas) {
      throw new Error(
        `only ${acknowledged} of ${this.options.waitReplicas} replicas acknowledged the write within ${this.options.waitTimeoutMs} ms`,
      )
    }
  }

  async read(id: string, limit?: number): Promise<Message[]> {
    const client = this.assertOpen()
    if (limit === 0) return []
    const key = this.layout.messages(this.layout.bucketOf(id), id)
    let items: string[]
    try {
      items = await client.lrange(key, limit === undefined ? 0 : -limit, -1)
    } catch (error) {
      if (isWrongType(error)) throw await this.foreignKey(client, key, id, 'read', error)
      throw this.failure(error, `cannot read conversation ${show(id)}`, 'try again once it answers')
    }
    return parseItems(items, key, this.where, limit === undefined ? 0 : -items.length)
  }

  // A conversation's key that something else wrote a value of another type to.
  private async foreignKey(
    client: RedisClient,
    key: string,
    id: string,
    action: string,
    error: unknown,
  ): Promise<MemoryError> {
    const type = await client.type(key).catch(() => 'another type')
    return new MemoryError(
      'corrupt',
      `cannot ${action} conversation ${show(id)} at Redis ${this.where}: the key "${key}" holds ${typeName(type)}, not a list of messages. ${FOREIGN_KEY_ADVICE}`,
      { cause: safeCause(error), details: { url: this.where, id, key, type } },
    )
  }

  async clear(id: string): Promise<boolean> {
    const client = this.assertOpen()
    const bucket = this.layout.bucketOf(id)
    try {
      const keys = [this.layout.index(bucket), this.layout.stamps(bucket), this.layout.messages(bucket, id)]
      return (await this.script(client, CLEAR, ['', keys.length, ...keys, id])) === 1
    } catch (error) {
      throw this.failure(error, `cannot clear conversation ${show(id)}`, 'nothing was changed')
    }
  }

  async *conversations(): AsyncIterable<ConversationSummary> {
    const client = this.assertOpen()
    for (let bucket = 0; bucket < this.layout.buckets; bucket++) {
      for (let start = 0; ; start += LIST_CHUNK) {
        const chunk = await this.listChunk(client, bucket, start)
        for (const summary of chunk.summaries) yield summary
        if (chunk.listed < LIST_CHUNK) break
      }
    }
  }

  // Reads one chunk of a bucket's index with each conversation's length and newest timestamp.
  // Index entries whose list is gone (a concurrent clear) are left out, and so are lists of
  // another type when `skipForeign` is set.
  private async listChunk(
    client: RedisClient,
    bucket: number,
    start: number,
    skipForeign = false,
  ): Promise<{ listed: number; summaries: ConversationSummary[] }> {
    try {
      const ids = await client.zrange(this.layout.index(bucket), start, start + LIST_CHUNK - 1)
      if (ids.length === 0) return { listed: 0, summaries: [] }
      const pipeline = client.pipeline()
      for (const id of ids) pipeline.llen(this.layout.messages(bucket, id))
      pipeline.hmget(this.layout.stamps(bucket), ...ids)
      const replies = (await pipeline.exec()) ?? []
      const stamps = (replies[ids.length]?.[1] ?? []) as Array<string | null>
      const summaries: ConversationSummary[] = []
      for (const [i, id] of ids.entries()) {
        const [error, length] = replies[i] ?? [new Error('no reply')]
        if (isWrongType(error)) {
          if (skipForeign) continue
          throw await this.foreignKey(client, this.layout.messages(bucket, id), id, 'list', error)
        }
        if (error) throw error
        if (length === 0) continue
        const stamp = stamps[i]
        summaries.push(
          typeof stamp === 'string' && stamp !== ''
            ? { id, messages: length as number, lastTimestamp: stamp }
            : { id, messages: length as number },
        )
      }
      return { listed: ids.length, summaries }
    } catch (error) {
      throw this.failure(error, 'cannot list conversations', 'try again once it answers')
    }
  }

  async prune(cutoff: number): Promise<string[]> {
    const client = this.assertOpen()
    const removed: string[] = []
    const buckets = Array.from({ length: this.layout.buckets }, (_, bucket) => bucket)
    try {
      await Promise.all(
        buckets.map(async (bucket) => {
          const index = this.layout.index(bucket)
          for (;;) {
            // Each round removes every listed entry from the index or finds it was written to
            // since, so the loop ends.
            const ids = await client.zrangebyscore(index, '-inf', `(${cutoff}`, 'LIMIT', 0, LIST_CHUNK)
            if (ids.length === 0) return
            const keys = [
              index,
              this.layout.stamps(bucket),
              ...ids.map((id) => this.layout.messages(bucket, id)),
            ]
            const gone = (await this.script(client, PRUNE, [
              '',
              keys.length,
              ...keys,
              cutoff,
              ...ids,
            ])) as string[]
            removed.push(...gone)
          }
        }),
      )
    } catch (error) {
      throw this.failure(error, 'cannot prune conversations', 'some may have been removed; run prune again')
    }
    return removed
  }

  async stats(): Promise<BackendStats> {
    const client = this.assertOpen()
    let conversations = 0
    let messages = 0
    await Promise.all(
      Array.from({ length: this.layout.buckets }, async (_, bucket) => {
        for (let start = 0; ; start += LIST_CHUNK) {
          const chunk = await this.listChunk(client, bucket, start)
          conversations += chunk.summaries.length
          // As history() shows them: a list written with a larger maxMessages reads as its newest.
          for (const summary of chunk.summaries) messages += Math.min(summary.messages, this.maxMessages)
          if (chunk.listed < LIST_CHUNK) break
        }
      }),
    )
    return { conversations, messages, bytesWritten: this.bytesWritten }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.client?.off('ready', this.onReady)
    // Every command of the store has settled by now (it calls the backend serially), so there is
    // nothing left to send: drop the connection and its reconnection timer at once.
    if (this.owned) this.client?.disconnect()
  }

  // `argv` is a free slot for the script, the number of keys, the keys, then the arguments.
  private async script(
    client: RedisClient,
    script: RedisScript,
    argv: Array<string | number>,
  ): Promise<unknown> {
    argv[0] = script.sha
    try {
      return await client.call('EVALSHA', argv)
    } catch (error) {
      // The script cache is empty after a restart or SCRIPT FLUSH: send the body once.
      if (!isNoScript(error)) throw error
      argv[0] = script.body
      return client.call('EVAL', argv)
    }
  }

  private failure(error: unknown, what: string, after: string): MemoryError {
    if (error instanceof MemoryError) return error
    const reply = isReplyError(error)
    let reason = errorText(error)
    // ioredis' words for "no connection right now" (enableOfflineQueue is off) say little.
    if (!reply && /Stream isn't writeable|Connection is closed/.test(reason)) {
      reason = `not connected${this.lastError === undefined ? '' : ` (${errorText(this.lastError)})`}, reconnecting in the background`
    }
    return new MemoryError(
      reply ? 'io' : 'backend-unavailable',
      `${what} at Redis ${this.where}: ${redactText(reason)}; ${after}.${reply ? advice(error) : ''}`,
      { cause: safeCause(error), details: { url: this.where } },
    )
  }

  private assertOpen(): RedisClient {
    if (this.state !== 'open' || this.client === undefined) {
      throw new MemoryError(
        'closed',
        `the Redis backend is ${this.state === 'closed' ? 'closed' : 'not open yet'}.`,
      )
    }
    if (this.selectRefusal !== undefined) {
      throw databaseRefused(
        this.where,
        configuredDatabase(this.client),
        this.selectRefusal,
        'after reconnecting',
        'nothing was read or written; pending messages are kept and retried, reconnecting in the background',
      )
    }
    return this.client
  }
}
