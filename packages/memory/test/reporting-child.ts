// The child processes of the crash and multi-process tests: a fixture that writes to a store and
// reports on stdout, one line per acknowledged change, a test that kills it at random, and the
// store opened again after the kill.
import { type ChildProcess, spawn } from 'node:child_process'
import { expect } from 'vitest'
import { type Memory, openMemory, type RecoveredInfo } from '../src/index.js'

/** A running fixture: its process, when it said "ready" (or exited first), and when it exited. */
export interface ReportingChild {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<void>
}

/**
 * Starts `node <args>` and hands every complete stdout line other than "ready" to `onLine`, split
 * into words. Only complete lines count: a line cut by a kill was not fully acknowledged.
 */
export function startReporting(args: readonly string[], onLine: (words: string[]) => void): ReportingChild {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = new Promise<void>((resolve) => {
    let buffered = ''
    child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString()
      let newline = buffered.indexOf('\n')
      while (newline !== -1) {
        const words = buffered.slice(0, newline).split(' ')
        buffered = buffered.slice(newline + 1)
        newline = buffered.indexOf('\n')
        if (words[0] === 'ready') resolve()
        else onLine(words)
      }
    })
    child.once('exit', () => resolve())
  })
  return { process: child, ready, exited }
}

/**
 * SIGKILLs a child at a random instant: one kill in ten during its start-up (open, replay,
 * recovery, worker start), the rest once it is ready and writing, after a random pause of up to
 * `shortMs` on even runs and `longMs` on odd ones (so kills also reach past work that starts late,
 * such as a compaction worker). Resolves once the process is gone.
 */
export async function killAtRandom(
  child: ReportingChild,
  run: number,
  { shortMs, longMs }: { shortMs: number; longMs: number },
): Promise<void> {
  if (Math.random() >= 0.1) {
    await child.ready
    await new Promise((resolve) => setTimeout(resolve, Math.random() * (run % 2 === 0 ? shortMs : longMs)))
  }
  child.process.kill('SIGKILL')
  await child.exited
}

/**
 * Opens the store a killed child left, as the next start would, and checks that the kill looked
 * like a kill: nothing recovered, no record reported damaged, out of sequence or not UTF-8 (at
 * most an unterminated final record, which is dropped without a word of damage).
 */
export async function openAfterKill(path: string): Promise<Memory> {
  const warnings: string[] = []
  const recovered: RecoveredInfo[] = []
  const memory = await openMemory({
    path,
    maxMessages: 1_000_000,
    flushOnExit: false,
    onWarning: (text) => warnings.push(text),
    onRecovered: (info) => recovered.push(info),
  })
  try {
    expect(recovered).toEqual([])
    expect(warnings.filter((text) => /damaged|sequence numbers|not valid UTF-8/.test(text))).toEqual([])
  } catch (error) {
    await memory.destroy()
    throw error
  }
  return memory
}
