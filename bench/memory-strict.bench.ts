import { constants, mkdirSync, writeFileSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bareGroupCommit } from './lib/bare-group-commit.js'
import { runBench } from './lib/bench.js'
import { installSyncCounter, syncCalls } from './lib/fs-count.js'
import { type BenchStore, legacyFile, openStore, STORE_LABELS } from './lib/memory-stores.js'
import { row } from './lib/result.js'
import { median, spreadText } from './lib/stats.js'
import { type ChatEvent, chatTraffic } from './lib/workload.js'

type Kind = 'ours' | 'ours-fdatasync' | 'python-every-message' | 'lowdb' | 'bare-js'
const FDATASYNC_LABEL = "@taurobot/memory, journalSync: 'fdatasync'"
const BARE_LABEL =
  'bare JavaScript group commit (a promise, a timestamp, an id and JSON per message; one O_DSYNC write into prepared space per group; no checks, checksum or state)'
const USERS = 50

await runBench(fileURLToPath(import.meta.url), {
  title: 'strict durability throughput',
  claim:
    'In strict mode (add() resolves once the message is on disk) @taurobot/memory sustains ≥ 0.9× the disk’s own ceiling, measured in the same run, one message at a time and with 50 concurrent writers (group commit: one durable write per batch). For information, the targets in absolute terms on the reference disk were ≥ 4,000 and ≥ 100,000 messages/s.',
  notCovered: [
    'lowdb does not fsync: its acknowledgements are not durable, it is shown only as the throughput users would get from it.',
    'Batched mode (add() resolves before the write): see memory-burst.',
    'Disks with a volatile write cache that lies about fsync.',
  ],
  async run(ctx) {
    await installSyncCounter(ctx.tmpDir)
    const fileText = legacyFile(chatTraffic(USERS, 100, 5))
    const traffic = chatTraffic(USERS, 2_000, 13)
    const reps = ctx.quick ? 3 : 5
    const windowMs = ctx.quick ? 500 : 1_200
    const stores = {} as Record<Kind, BenchStore>
    const preparedBytes = 64 * 1024 * 1024
    const dsyncFlag: number | undefined = constants.O_DSYNC
    // The bare group commit needs O_DSYNC; where the platform lacks it, the row goes without it.
    const KINDS: Kind[] = ['python-every-message', 'ours', 'ours-fdatasync', 'lowdb']
    if (dsyncFlag !== undefined) {
      KINDS.push('bare-js')
      stores['bare-js'] = bareGroupCommit(
        await preparedFile(join(ctx.tmpDir, 'bare.journal'), preparedBytes, dsyncFlag),
        preparedBytes,
      )
    }
    for (const kind of KINDS) {
      if (kind === 'bare-js') continue
      const dir = join(ctx.tmpDir, kind)
      mkdirSync(dir)
      writeFileSync(join(dir, 'conversations.json'), fileText)
      stores[kind] =
        kind === 'ours-fdatasync'
          ? await openStore('ours', dir, {
              maxMessages: 1000,
              durability: 'strict',
              journalSync: 'fdatasync',
            })
          : await openStore(kind, dir, { maxMessages: 1000, durability: 'strict' })
    }
    const rates = {
      1: { ours: [], 'ours-fdatasync': [], 'python-every-message': [], lowdb: [], 'bare-js': [] } as Record<
        Kind,
        number[]
      >,
      50: { ours: [], 'ours-fdatasync': [], 'python-every-message': [], lowdb: [], 'bare-js': [] } as Record<
        Kind,
        number[]
      >,
    }
    const zero = (): Record<Kind, number> => ({
      ours: 0,
      'ours-fdatasync': 0,
      'python-every-message': 0,
      lowdb: 0,
      'bare-js': 0,
    })
    const syncs = { 1: zero(), 50: zero() }
    const acks = { 1: zero(), 50: zero() }
    // The disk's own ceilings. One at a time: append a message-sized record, fdatasync. With 50
    // writers each waiting for its own acknowledgement, a group commit holds at most 50 messages:
    // append a record of 50 messages, fdatasync, and count 50 messages per round.
    // Both ways of making an append durable: write + fdatasync, and one write on a descriptor
    // opened with O_DSYNC (which @taurobot/memory uses where the platform has it).
    const disk: Record<1 | 50, number[]> = { 1: [], 50: [] }
    const diskDsync: Record<1 | 50, number[]> = { 1: [], 50: [] }
    const diskPrepared: Record<1 | 50, number[]> = { 1: [], 50: [] }
    const handle = await open(join(ctx.tmpDir, 'raw.journal'), 'a')
    const dsyncHandle =
      dsyncFlag === undefined
        ? undefined
        : await open(
            join(ctx.tmpDir, 'raw-dsync.journal'),
            constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | dsyncFlag,
          )
    // The same O_DSYNC writes into space written (zeros, made durable) beforehand, as the store's
    // journal does: an overwrite commits only its data, an append also the file's new size.
    const preparedHandle =
      dsyncFlag === undefined
        ? undefined
        : await preparedFile(join(ctx.tmpDir, 'raw-prepared.journal'), preparedBytes, dsyncFlag)
    const message = (e: ChatEvent) => ({
      role: e.role,
      content: e.content,
      timestamp: new Date().toISOString(),
    })
    const records = {
      1: Buffer.from(`${JSON.stringify(message(traffic[0] as ChatEvent))}\n`),
      50: Buffer.from(
        `${JSON.stringify({ s: 1, a: traffic.slice(0, USERS).map((e) => [String(e.user), [message(e)]]) })}\n`,
      ),
    }
    const measureDisk = async (messages: 1 | 50) => {
      let n = 0
      let t0 = performance.now()
      while (performance.now() - t0 < windowMs) {
        await handle.write(records[messages])
        await handle.datasync()
        n += 1
      }
      disk[messages].push((n * messages) / ((performance.now() - t0) / 1000))
      if (dsyncHandle === undefined) return
      n = 0
      t0 = performance.now()
      while (performance.now() - t0 < windowMs) {
        await dsyncHandle.write(records[messages])
        n += 1
      }
      diskDsync[messages].push((n * messages) / ((performance.now() - t0) / 1000))
      if (preparedHandle === undefined) return
      const record = records[messages]
      let position = 0
      n = 0
      t0 = performance.now()
      while (performance.now() - t0 < windowMs) {
        if (position + record.length > preparedBytes) position = 0
        await preparedHandle.write(record, 0, record.length, position)
        position += record.length
        n += 1
      }
      diskPrepared[messages].push((n * messages) / ((performance.now() - t0) / 1000))
    }
    let next = 0
    const nextEvent = (): ChatEvent => traffic[next++ % traffic.length] as ChatEvent
    // Repetitions alternate between stores, so a noisy neighbour hurts all of them alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const writers of [1, 50] as const) {
        await measureDisk(writers)
        for (const kind of KINDS) {
          const store = stores[kind]
          let acked = 0
          let stop = false
          const sync0 = syncCalls.count
          const workerSync0 = await store.workerSyncs()
          const t0 = performance.now()
          const deadline = t0 + windowMs
          const timer = setTimeout(() => {
            stop = true
          }, windowMs)
          await Promise.all(
            Array.from({ length: writers }, async () => {
              while (!stop && performance.now() < deadline) {
                await store.add(nextEvent())
                acked += 1
              }
            }),
          )
          clearTimeout(timer)
          const rate = acked / ((performance.now() - t0) / 1000)
          rates[writers][kind].push(rate)
          syncs[writers][kind] += syncCalls.count - sync0 + (await store.workerSyncs()) - workerSync0
          acks[writers][kind] += acked
          ctx.log(`rep ${rep} ${kind} × ${writers}: ${Math.round(rate)} msg/s`)
        }
      }
    }
    for (const kind of KINDS) await stores[kind].close()
    await handle.close()
    await dsyncHandle?.close()
    await preparedHandle?.close()
    const mk = (writers: 1 | 50) =>
      row({
        operation: `strict messages/s, ${writers === 1 ? '1 writer' : `${writers} concurrent writers`}`,
        unit: 'msg/s',
        better: 'higher',
        before: median(rates[writers]['python-every-message']),
        after: median(rates[writers].ours),
        peers: {
          [FDATASYNC_LABEL]: median(rates[writers]['ours-fdatasync']),
          [`${STORE_LABELS.lowdb} (no fsync)`]: median(rates[writers].lowdb),
          ...(rates[writers]['bare-js'].length === 0
            ? {}
            : { [BARE_LABEL]: median(rates[writers]['bare-js']) }),
          [writers === 1
            ? 'this disk: append + fdatasync loop'
            : `this disk: ${USERS}-message append + fdatasync loop × ${USERS}`]: median(disk[writers]),
          ...(dsyncHandle === undefined
            ? {}
            : {
                [writers === 1 ? 'O_DSYNC append loop' : `${USERS}-message O_DSYNC append loop × ${USERS}`]:
                  median(diskDsync[writers]),
                [writers === 1
                  ? 'O_DSYNC write into prepared space loop'
                  : `${USERS}-message O_DSYNC write into prepared space loop × ${USERS}`]: median(
                  diskPrepared[writers],
                ),
              }),
        },
        spread: spreadText(rates[writers].ours),
      })
    // The ceiling of the method the store uses (O_DSYNC where the platform has it), paired with the
    // windows measured just before the stores in the same repetition, so load hits both alike.
    const ceiling = (writers: 1 | 50) => (dsyncHandle === undefined ? disk[writers] : diskDsync[writers])
    const share = (kind: Kind, writers: 1 | 50, against: number[]) =>
      median(rates[writers][kind].map((rate, rep) => rate / (against[rep] ?? Number.NaN)))
    const vsDisk = (writers: 1 | 50) =>
      row({
        operation: `strict messages/s as a share of this disk's ceiling, ${writers === 1 ? '1 writer' : `${writers} concurrent writers`}`,
        unit: '×',
        better: 'higher',
        after: share('ours', writers, ceiling(writers)),
        peers: {
          [`${FDATASYNC_LABEL}, vs the fdatasync loop`]: share('ours-fdatasync', writers, disk[writers]),
          ...(preparedHandle === undefined
            ? {}
            : {
                '@taurobot/memory vs a bare loop of its own method (O_DSYNC writes into prepared space)':
                  share('ours', writers, diskPrepared[writers]),
              }),
          ...(rates[writers]['bare-js'].length === 0
            ? {}
            : {
                '@taurobot/memory vs the bare JavaScript group commit': share(
                  'ours',
                  writers,
                  rates[writers]['bare-js'],
                ),
                'the bare JavaScript group commit vs the ceiling': share(
                  'bare-js',
                  writers,
                  ceiling(writers),
                ),
              }),
        },
        target: { op: '>=', value: 0.9 },
      })
    const perMessage = (writers: 1 | 50) =>
      row({
        operation: `durable writes (fsync, fdatasync or O_DSYNC write) per acknowledged message, ${writers === 1 ? '1 writer' : `${writers} writers`}`,
        unit: 'count',
        better: 'lower',
        before: syncs[writers]['python-every-message'] / acks[writers]['python-every-message'],
        after: syncs[writers].ours / acks[writers].ours,
        peers: {
          [FDATASYNC_LABEL]: syncs[writers]['ours-fdatasync'] / acks[writers]['ours-fdatasync'],
          [`${STORE_LABELS.lowdb} (no fsync)`]: syncs[writers].lowdb / acks[writers].lowdb,
        },
      })
    return {
      rows: [vsDisk(1), vsDisk(50), mk(1), mk(50), perMessage(1), perMessage(50)],
      notes: [
        `${USERS} conversations × 100 messages of history to start with; each figure is the median of ${reps} windows of ${windowMs} ms, stores alternating. A message counts once its add() resolved. "this disk" is a bare loop of one append and one fdatasync, and "O_DSYNC append loop" one of single appends to a file opened with O_DSYNC (durable when write() returns, the method @taurobot/memory uses where the platform has it): the ceilings for any store that makes each message durable before acknowledging the next; with ${USERS} writers, each awaiting its own message, one group commit holds at most ${USERS} messages, so the ceiling is ${USERS} × the rate of a bare loop appending a ${USERS}-message record and fdatasyncing it (no JSON, no promises per message). @taurobot/memory writes its journal records into space it prepared ahead (zeros written and made durable a chunk at a time), so its durable writes overwrite blocks already in the file instead of growing it, which commits only the data, not the file's new size; "O_DSYNC write into prepared space loop" is a bare loop of that method (records written in turn over a 64 MiB file of zeros made durable beforehand), shown beside the ceiling so the share against each can be read. The bare JavaScript group commit (bench/lib/bare-group-commit.ts) is the least any store of this design spends on the main thread: per message a timestamp, an id, a promise and its JSON, per group one JSON.stringify and one O_DSYNC write into prepared space, with no checks, no checksum and no history kept; with 50 writers every message waits for the group's write and the next group's work waits for the acknowledgements, so that JavaScript adds to the disk's time instead of overlapping it, and its share of the ceiling shows what part of the gap no store of this kind can close on this machine. The Python baseline saves (write-file-atomic: write, fsync, rename) inside every add, which is its only durable mode. Durable writes (fsync/fdatasync calls, and writes on descriptors opened with O_DSYNC or O_SYNC) are counted by wrapping node:fs, plus two per background compaction of @taurobot/memory, which makes them on its worker thread.`,
      ],
    }
  },
})

/** A file of `bytes` zeros made durable, opened for O_DSYNC writes at chosen offsets. */
async function preparedFile(path: string, bytes: number, dsyncFlag: number): Promise<FileHandle> {
  const setup = await open(path, 'w')
  const zeros = Buffer.alloc(1024 * 1024)
  for (let at = 0; at < bytes; at += zeros.length) await setup.write(zeros, 0, zeros.length, at)
  await setup.datasync()
  await setup.close()
  return open(path, constants.O_WRONLY | dsyncFlag)
}
