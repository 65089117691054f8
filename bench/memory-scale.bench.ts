import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './lib/bench.js'
import { row } from './lib/result.js'
import { writePythonConversations } from './lib/scale-data.js'
import { SCALE_MARKER } from './lib/scale-report.js'
import { median, spreadText } from './lib/stats.js'
import { bundleChild } from './lib/voice-spawn.js'

const PER_USER = 1000
// The heap the JSON backend's child gets: enough for 5 M messages (see the memory README).
const JSON_HEAP_MB = 16_384
// A bare loop doing per message the SQLite work of a strict add in the store's schema (scale-child.ts).
const SAME_WORK_LABEL = 'bare loop of the same statements (row lookup, insert, row update)'

interface JsonReport {
  openMs: number
  readAllMs: number
  rssAfterOpenBytes: number
  peakRssBytes: number
  firstSaveMs: number
  closeMs: number
  warnings: string[]
  error?: string
  message?: string
}
interface SqliteReport {
  openMs: number
  rssAfterOpenBytes: number
  historyP50Ms: number
  historyP99Ms: number
  saveBusyP50Ms: number
  saveBusyP99Ms: number
  saveBusyMaxMs: number
  saveCpuP99Ms: number | null
  /** Batched throughput of each round of 100,000 adds. */
  batchedRounds: number[]
  closeMs: number
}

/** Runs the bundled child under plain node with `flags`; resolves with its SCALE report. */
function child<T>(script: string, flags: string[], args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...flags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-3000)
    })
    proc.on('exit', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith(`${SCALE_MARKER} `))
      if (line === undefined) {
        reject(new Error(`${args[0]} child exited with ${signal ?? code} and no report: ${stderr.trim()}`))
        return
      }
      resolve(JSON.parse(line.slice(SCALE_MARKER.length + 1)) as T)
    })
  })
}

/** Python's `json.load` of the file: seconds and peak RSS, from Python itself. */
function pythonLoad(path: string): { ms: number; peakRssBytes: number } {
  const script =
    'import json, resource, sys, time\n' +
    't = time.perf_counter()\n' +
    "data = json.load(open(sys.argv[1], encoding='utf-8'))\n" +
    'ms = (time.perf_counter() - t) * 1000\n' +
    "print(ms, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, len(data['conversations']))\n"
  const result = spawnSync('python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (result.status !== 0) throw new Error(`python3 json.load failed: ${result.stderr}`)
  const [ms, rss] = result.stdout.trim().split(' ').map(Number) as [number, number]
  return { ms, peakRssBytes: rss }
}

const mb = (bytes: number) => bytes / 1024 / 1024
const label = (messages: number) => `${messages / 1_000_000} M`

await runBench(fileURLToPath(import.meta.url), {
  title: 'memory at scale: JSON file and SQLite, 1 M to 20 M messages',
  claim:
    'SQLite: open ≤ 50 ms and RSS after open ≤ 100 MB at any size, history(id, {limit: 20}) p99 ≤ 1 ms, batched ≥ 100,000 msg/s, strict with 1 writer ≥ 0.9× a bare better-sqlite3 loop with the same durability, main-thread time per save p99 ≤ 0.5 ms. JSON file: opens at 5 M messages, open time and peak RSS ≤ Python json.load on the same file, first save after open ≤ 50 ms, close() after 1,000 new messages ≤ 1 s.',
  notCovered: [
    'Data is generated in the Python bot format (indent 2, non-ASCII kept), 1,000 messages per conversation, about 200 characters of text each; other shapes parse at other speeds.',
    'Each figure is one run per size (the sizes take minutes to generate), not a median over repeats, except SQLite batched adds (the median of 3 rounds of 100,000 adds in the same process) and the strict SQLite row (a median of alternating windows).',
    'The page cache is warm: the files were just written. A cold disk adds its read time to every open.',
    'The JSON open checks every byte but parses a conversation only when it is first used; the "open, then the first read of every conversation" row adds the parsing of all of them (peak RSS includes it), for a like-for-like comparison with json.load, which builds every object.',
    'Main-thread time per save is measured after 3 s of unmeasured saves, as memory-event-loop does.',
  ],
  async run(ctx) {
    const script = await bundleChild('scale-child')
    const jsonSizes = ctx.quick ? [2_000_000] : [1_000_000, 2_000_000, 5_000_000]
    const sqliteSizes = ctx.quick ? [1_000_000] : [1_000_000, 5_000_000, 20_000_000]
    const rows = []
    const notes: string[] = []
    const openPoints: Array<[number, number, number]> = []

    for (const messages of jsonSizes) {
      const users = messages / PER_USER
      const dir = join(ctx.tmpDir, `json-${users}`)
      mkdirSync(dir)
      const path = join(dir, 'conversations.json')
      const bytes = writePythonConversations(path, users, PER_USER)
      ctx.log(`${label(messages)}: ${mb(bytes).toFixed(0)} MB written`)
      const python = pythonLoad(path)
      ctx.log(
        `${label(messages)}: python json.load ${python.ms.toFixed(0)} ms, ${mb(python.peakRssBytes).toFixed(0)} MB`,
      )
      const ours = await child<JsonReport>(
        script,
        [`--max-old-space-size=${JSON_HEAP_MB}`],
        ['json', path, String(users)],
      )
      // The first save is one sample per process: two more processes, for a median of three.
      const firstSaves = [ours.firstSaveMs]
      if (ours.error === undefined) {
        for (let extra = 0; extra < 2; extra++) {
          const sample = await child<{ firstSaveMs: number }>(
            script,
            [`--max-old-space-size=${JSON_HEAP_MB}`],
            ['json-first-save', path, String(users)],
          )
          firstSaves.push(sample.firstSaveMs)
        }
      }
      rmSync(dir, { recursive: true, force: true })
      if (ours.error !== undefined) {
        notes.push(`JSON at ${label(messages)}: openMemory refused: ${ours.message}`)
        continue
      }
      ctx.log(`${label(messages)}: ours ${JSON.stringify(ours)}`)
      openPoints.push([messages, bytes, ours.openMs])
      const size = `${label(messages)} messages (${mb(bytes).toFixed(0)} MB)`
      rows.push(
        row({
          operation: `JSON: open, ${size}`,
          unit: 'ms',
          better: 'lower',
          before: python.ms,
          after: ours.openMs,
          target: { op: '<=', value: python.ms },
        }),
        row({
          operation: `JSON: open, then the first read of every conversation, ${size}`,
          unit: 'ms',
          better: 'lower',
          before: python.ms,
          after: ours.openMs + ours.readAllMs,
        }),
        row({
          operation: `JSON: peak RSS of open, ${size}`,
          unit: 'MB',
          better: 'lower',
          before: mb(python.peakRssBytes),
          after: mb(ours.peakRssBytes),
          target: { op: '<=', value: mb(python.peakRssBytes) },
        }),
        row({
          operation: `JSON: first save after open, ${size}`,
          unit: 'ms',
          better: 'lower',
          after: median(firstSaves),
          spread: `${firstSaves.map((ms) => ms.toFixed(1)).join(', ')} ms in 3 processes`,
          target: { op: '<=', value: 50 },
        }),
        row({
          operation: `JSON: close() after 1,000 new messages, ${size}`,
          unit: 'ms',
          better: 'lower',
          after: ours.closeMs,
          target: { op: '<=', value: 1000 },
        }),
      )
      if (ours.warnings.length > 0)
        notes.push(`JSON at ${label(messages)} warned: ${ours.warnings.join(' | ')}`)
    }
    if (openPoints.length >= 2) {
      // Open time grows linearly with the file; a least-squares line through the measured sizes.
      const n = openPoints.length
      const sx = openPoints.reduce((s, p) => s + p[0], 0)
      const sy = openPoints.reduce((s, p) => s + p[2], 0)
      const sxx = openPoints.reduce((s, p) => s + p[0] * p[0], 0)
      const sxy = openPoints.reduce((s, p) => s + p[0] * p[2], 0)
      const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
      const intercept = (sy - slope * sx) / n
      const bytesPerMessage = openPoints.reduce((s, p) => s + p[1] / p[0], 0) / n
      const at = (ms: number) => Math.max(0, (ms - intercept) / slope)
      const say = (ms: number) =>
        `${(at(ms) / 1_000_000).toFixed(1)} M messages (${mb(at(ms) * bytesPerMessage).toFixed(0)} MB)`
      notes.push(
        `The JSON backend's open time passes 1 s at about ${say(1000)} and 10 s at about ${say(10_000)} (a line through the sizes measured).`,
      )
    }

    for (const messages of sqliteSizes) {
      const users = messages / PER_USER
      const dir = join(ctx.tmpDir, `sqlite-${users}`)
      mkdirSync(dir)
      const path = join(dir, 'conversations.db')
      const built = await child<{ buildMs: number }>(
        script,
        [],
        ['sqlite-build', path, String(users), String(PER_USER)],
      )
      const bytes = statSync(path).size
      ctx.log(
        `${label(messages)}: SQLite built in ${built.buildMs.toFixed(0)} ms, ${mb(bytes).toFixed(0)} MB`,
      )
      const ours = await child<SqliteReport>(
        script,
        [],
        ['sqlite', path, String(users), ctx.quick ? '1000' : '3000'],
      )
      ctx.log(`${label(messages)}: ${JSON.stringify(ours)}`)
      rmSync(dir, { recursive: true, force: true })
      const size = `${label(messages)} messages (${mb(bytes).toFixed(0)} MB)`
      rows.push(
        row({
          operation: `SQLite: open, ${size}`,
          unit: 'ms',
          better: 'lower',
          after: ours.openMs,
          target: { op: '<=', value: 50 },
        }),
        row({
          operation: `SQLite: RSS after open, ${size}`,
          unit: 'MB',
          better: 'lower',
          after: mb(ours.rssAfterOpenBytes),
          target: { op: '<=', value: 100 },
        }),
        row({
          operation: `SQLite: history(id, {limit: 20}) p99, ${size}`,
          unit: 'ms',
          better: 'lower',
          after: ours.historyP99Ms,
          target: { op: '<=', value: 1 },
        }),
        row({
          operation: `SQLite: batched adds, ${size}`,
          unit: 'msg/s',
          better: 'higher',
          after: median(ours.batchedRounds),
          spread: spreadText(ours.batchedRounds, 'rounds of 100,000 adds'),
          target: { op: '>=', value: 100_000 },
        }),
        row({
          operation: `SQLite: main-thread time per save (5 adds) p99, ${size}`,
          unit: 'ms',
          better: 'lower',
          after: ours.saveBusyP99Ms,
          target: { op: '<=', value: 0.5 },
        }),
      )
      notes.push(
        `SQLite at ${label(messages)}: main-thread time per save p50 ${ours.saveBusyP50Ms.toFixed(3)} ms, max ${ours.saveBusyMaxMs.toFixed(2)} ms${ours.saveCpuP99Ms === null ? '' : `, main-thread CPU per save p99 ${ours.saveCpuP99Ms.toFixed(3)} ms`}; history p50 ${ours.historyP50Ms.toFixed(3)} ms; close ${ours.closeMs.toFixed(1)} ms.`,
      )
    }

    const strictDir = join(ctx.tmpDir, 'strict')
    mkdirSync(strictDir)
    const strict = await child<{
      ours: number[]
      mainThread: number[]
      onWorker: number[]
      bare: number[]
      sameWork: number[]
    }>(script, [], ['sqlite-strict', strictDir, ctx.quick ? '600' : '1500', ctx.quick ? '3' : '7'])
    const oursStrict = median(strict.ours)
    const bareStrict = median(strict.bare)
    const mainStrict = median(strict.mainThread)
    const workerStrict = median(strict.onWorker)
    const sameWorkStrict = median(strict.sameWork)
    rows.push(
      row({
        operation: 'SQLite: strict adds, 1 writer',
        unit: 'msg/s',
        better: 'higher',
        after: oursStrict,
        peers: {
          'worker: false (commits on the main thread)': mainStrict,
          'worker: true (commits on the worker)': workerStrict,
          'bare better-sqlite3 loop, same durability': bareStrict,
          [SAME_WORK_LABEL]: sameWorkStrict,
        },
      }),
      row({
        operation: 'SQLite: strict, 1 writer, as a share of the bare loop',
        unit: '×',
        better: 'higher',
        after: oursStrict / bareStrict,
        peers: {
          'worker: false (commits on the main thread)': mainStrict / bareStrict,
          'worker: true (commits on the worker)': workerStrict / bareStrict,
        },
        target: { op: '>=', value: 0.9 },
      }),
      // For information: the share of a loop that does the same SQLite work per message, so the
      // store's own overhead shows apart from what its schema costs (a second page per commit).
      row({
        operation: 'SQLite: strict, 1 writer, as a share of a bare loop of the same statements',
        unit: '×',
        better: 'higher',
        after: oursStrict / sameWorkStrict,
        peers: {
          'worker: false (commits on the main thread)': mainStrict / sameWorkStrict,
          'worker: true (commits on the worker)': workerStrict / sameWorkStrict,
          [`${SAME_WORK_LABEL} ÷ bare insert loop`]: sameWorkStrict / bareStrict,
        },
      }),
    )
    return { rows, notes }
  },
})
