import { fork } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openMemory } from '@taurobot/memory'
import { runBench } from './lib/bench.js'
import { STORE_LABELS, type StoreKind } from './lib/memory-stores.js'
import { row } from './lib/result.js'
import { userId } from './lib/workload.js'

const WRITERS = 50

interface ChildReport {
  acked: string[]
  failed: number
  ms: number
  delayMaxMs: number
}

interface Outcome {
  acked: number
  lost: number
  duplicated: number
  failed: number
  delayMaxMs: number
  rate: number
}

await runBench(fileURLToPath(import.meta.url), {
  title: 'burst of 50 concurrent writers',
  claim:
    'A burst of 50 concurrent writers × 100 rounds loses no acknowledged message and keeps the event-loop delay max ≤ 20 ms.',
  notCovered: [
    'Power loss: SIGKILL loses the process, not the page cache, so data written without fsync (lowdb) survives it here but may not survive a power cut.',
    'Batched mode acknowledges before writing: killed without close() it may lose its documented window (shown for information), never after close().',
    'Whole-file stores run 20 rounds instead of 100: every one of their saves rewrites the whole growing file.',
  ],
  async run(ctx) {
    const rounds = ctx.quick ? 40 : 100
    const baselineRounds = ctx.quick ? 10 : 20
    const runs: Array<
      [
        label: string,
        kind: StoreKind,
        durability: 'strict' | 'batched',
        ending: 'kill' | 'close',
        rounds: number,
      ]
    > = [
      ['ours-strict-kill', 'ours', 'strict', 'kill', rounds],
      ['ours-batched-close', 'ours', 'batched', 'close', rounds],
      ['ours-batched-kill', 'ours', 'batched', 'kill', rounds],
      ['python-every-message', 'python-every-message', 'strict', 'kill', baselineRounds],
      ['python-every-5', 'python-every-5', 'batched', 'kill', baselineRounds],
      ['lowdb', 'lowdb', 'strict', 'kill', baselineRounds],
    ]
    const out: Record<string, Outcome> = {}
    for (const [label, kind, durability, ending, r] of runs) {
      const dir = join(ctx.tmpDir, label)
      mkdirSync(dir)
      const report = await runChild(kind, dir, r, durability, ending)
      const found = await readBack(kind, dir, r)
      let lost = 0
      let duplicated = 0
      for (const content of report.acked) {
        const n = found.get(content) ?? 0
        if (n === 0) lost += 1
        if (n > 1) duplicated += n - 1
      }
      out[label] = {
        acked: report.acked.length,
        lost,
        duplicated,
        failed: report.failed,
        delayMaxMs: report.delayMaxMs,
        rate: report.acked.length / (report.ms / 1000),
      }
      ctx.log(`${label}: ${JSON.stringify(out[label])}`)
    }
    const get = (label: string, f: keyof Outcome) => out[label]?.[f] ?? null
    const peers = (f: keyof Outcome) => ({
      [`${STORE_LABELS['python-every-5']} (${baselineRounds} rounds)`]: get('python-every-5', f),
      [`${STORE_LABELS.lowdb} (${baselineRounds} rounds)`]: get('lowdb', f),
    })
    return {
      rows: [
        row({
          operation: 'acknowledged messages lost, strict, SIGKILL after the last ack',
          unit: 'count',
          better: 'lower',
          before: get('python-every-message', 'lost'),
          after: get('ours-strict-kill', 'lost'),
          peers: peers('lost'),
          target: { op: '==', value: 0 },
        }),
        row({
          operation: 'acknowledged messages lost, batched, after close()',
          unit: 'count',
          better: 'lower',
          after: get('ours-batched-close', 'lost'),
          target: { op: '==', value: 0 },
        }),
        row({
          operation: 'messages lost, batched, SIGKILL without close() (documented window)',
          unit: 'count',
          better: 'lower',
          after: get('ours-batched-kill', 'lost'),
        }),
        row({
          operation: 'messages duplicated on reopen (any run)',
          unit: 'count',
          better: 'lower',
          after: Math.max(
            ...['ours-strict-kill', 'ours-batched-close', 'ours-batched-kill'].map(
              (l) => out[l]?.duplicated ?? 0,
            ),
          ),
          target: { op: '==', value: 0 },
        }),
        row({
          operation: 'event-loop delay max during the burst, strict',
          unit: 'ms',
          better: 'lower',
          before: get('python-every-message', 'delayMaxMs'),
          after: get('ours-strict-kill', 'delayMaxMs'),
          peers: peers('delayMaxMs'),
          target: { op: '<=', value: 20 },
        }),
        row({
          operation: 'event-loop delay max during the burst, batched',
          unit: 'ms',
          better: 'lower',
          after: get('ours-batched-close', 'delayMaxMs'),
          target: { op: '<=', value: 20 },
        }),
        row({
          operation: 'burst throughput, strict (acknowledged messages/s)',
          unit: 'msg/s',
          better: 'higher',
          before: get('python-every-message', 'rate'),
          after: get('ours-strict-kill', 'rate'),
          peers: peers('rate'),
        }),
      ],
      notes: [
        `${WRITERS} writers (one conversation each) × ${rounds} rounds for @taurobot/memory (${WRITERS * rounds} messages), × ${baselineRounds} for the whole-file stores; every writer awaits each add. Each run is a child process; "acknowledged" means its add() resolved there. After the last acknowledgement the child is killed with SIGKILL (or closes, where stated) and the parent reads the files back.`,
        `Add() calls that rejected: ${Object.entries(out)
          .map(([l, o]) => `${l} ${o.failed}`)
          .join(', ')}.`,
      ],
    }
  },
})

function runChild(
  kind: StoreKind,
  dir: string,
  rounds: number,
  durability: 'strict' | 'batched',
  ending: 'kill' | 'close',
): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = fork(
      join(import.meta.dirname, 'lib', 'burst-child.ts'),
      [kind, dir, String(WRITERS), String(rounds), durability, ending],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    )
    let report: ChildReport | undefined
    child.on('message', (message) => {
      report = message as ChildReport
      child.kill('SIGKILL')
    })
    child.on('exit', () =>
      report ? resolve(report) : reject(new Error(`burst child for ${kind} exited early`)),
    )
  })
}

/** Counts each message content found on disk after the child is gone. */
async function readBack(kind: StoreKind, dir: string, rounds: number): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const count = (content: string) => found.set(content, (found.get(content) ?? 0) + 1)
  if (kind === 'ours') {
    const memory = await openMemory({ path: join(dir, 'conversations.json') })
    for (let w = 0; w < WRITERS; w++) {
      for (const m of await memory.history(userId(w), { limit: rounds * 2 })) count(m.content)
    }
    await memory.close()
  } else {
    const data = JSON.parse(readFileSync(join(dir, 'conversations.json'), 'utf8')) as {
      conversations: Record<string, Array<{ content: string }>>
    }
    for (const list of Object.values(data.conversations)) for (const m of list) count(m.content)
  }
  return found
}
