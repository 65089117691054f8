// The binary engine starts the next espeak-ng process ahead of time, with the same settings, so a
// task only writes its text. Observed through a wrapper program that logs every start.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { distDir, fixturesDir, loadVoice } from './helpers.js'

const installed = spawnSync('espeak-ng', ['--version']).status === 0
const scratch = mkdtempSync(join(tmpdir(), 'voice-spare-'))
const log = join(scratch, 'starts.log')
const wrapper = join(scratch, 'espeak-ng-logged')
writeFileSync(wrapper, `#!/bin/sh\necho "$$ $(date +%s%N) $*" >> '${log}'\nexec espeak-ng "$@"\n`)
chmodSync(wrapper, 0o755)
// Worker threads copy the environment when they start, so this must come before the first task.
process.env.ESPEAK_NG_PATH = wrapper

const { VoiceSystem, voicePool } = await loadVoice()
voicePool.configure({ maxThreads: 1 })

interface Start {
  pid: number
  atMs: number
  args: string
}

function starts(): Start[] {
  let text = ''
  try {
    text = readFileSync(log, 'utf8')
  } catch {
    return []
  }
  return text
    .trim()
    .split('\n')
    .filter((line) => line.includes('--stdout'))
    .map((line) => {
      const [pid, ns, ...args] = line.split(' ')
      return { pid: Number(pid), atMs: Number(BigInt(ns as string) / 1_000_000n), args: args.join(' ') }
    })
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** False once the process has exited, reaped or not (a zombie shows state Z in /proc). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

afterAll(async () => {
  await voicePool.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe.skipIf(!installed)('engine "espeak-ng": the next process is started ahead of time', () => {
  const sentence = 'Il sistema operativo parla italiano senza rete.'

  it('a task with the same settings uses the process started after the previous one', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 150 })
    const callStartedAt: number[] = []
    for (let i = 0; i < 3; i++) {
      // Let the waiting process get started before the next call is made.
      await until(() => starts().length === i + (i === 0 ? 0 : 1))
      callStartedAt.push(Date.now())
      await voice.synthesize(sentence, { format: 'wav' })
    }
    // Three tasks: one fresh process, then two that were waiting, plus the one waiting now.
    expect(await until(() => starts().length === 4)).toBe(true)
    const logged = starts()
    expect(logged).toHaveLength(4)
    expect(new Set(logged.map((s) => s.args)).size).toBe(1)
    // The second and third calls ran on processes started before those calls were made.
    expect(logged[1]?.atMs).toBeLessThanOrEqual(callStartedAt[1] as number)
    expect(logged[2]?.atMs).toBeLessThanOrEqual(callStartedAt[2] as number)
  })

  it('changing a setting discards the waiting process and speaks with the new one', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 100 })
    const slow = await voice.synthesize(sentence, { format: 'wav' })
    expect(await until(() => starts().length === 6)).toBe(true)
    const waiting = starts().at(-1) as Start
    voice.setRate(300)
    const fast = await voice.synthesize(sentence, { format: 'wav' })
    expect(fast.durationMs).toBeLessThan(slow.durationMs * 0.6)
    expect(await until(() => !alive(waiting.pid))).toBe(true)
    expect(await until(() => starts().length === 8)).toBe(true)
    expect(starts().at(-1)?.args).toContain('-s 300')
  })

  it('a waiting process killed from outside is replaced: the task still gets its audio', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 200 })
    const before = starts().length
    const first = await voice.synthesize(sentence, { format: 'wav' })
    // A fresh process for the new rate, then the one started to wait for the next task.
    expect(await until(() => starts().length === before + 2)).toBe(true)
    const waiting = starts().at(-1) as Start
    process.kill(waiting.pid, 'SIGKILL')
    // Dead, though not yet reaped: its parent, the pool thread, is idle until the next task.
    expect(await until(() => !running(waiting.pid))).toBe(true)
    const second = await voice.synthesize(sentence, { format: 'wav' })
    expect(second.durationMs).toBe(first.durationMs)
    expect(second.data.length).toBe(first.data.length)
    // The task ran on a process started after the kill, and the next one waits again (counted
    // here, so the next test starts from a settled log).
    expect(await until(() => starts().length === before + 4)).toBe(true)
  })

  it('warmup() runs the native engine once, not until it settles', async () => {
    const voice = new VoiceSystem({ engine: 'espeak-ng', language: 'it', rate: 120 })
    const before = starts().length
    const result = await voice.warmup()
    expect(result.threads).toBe(1)
    // One process spoke the warm-up text (settings changed, so not the waiting one), one waits.
    expect(await until(() => starts().length === before + 2)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(starts().length).toBe(before + 2)
  })

  it('a script that never cleans up exits by itself, and its waiting espeak-ng process ends', () => {
    const run = spawnSync(
      process.execPath,
      [join(fixturesDir, 'binary-forgets-cleanup.mjs'), join(distDir, 'index.js')],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ESPEAK_NG_PATH: wrapper } },
    )
    expect(run.signal).toBeNull()
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout).sizes).toHaveLength(2)
    const last = starts().at(-1) as Start
    return until(() => !alive(last.pid)).then((gone) => expect(gone).toBe(true))
  })
})
