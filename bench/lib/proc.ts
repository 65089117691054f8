import { readFileSync } from 'node:fs'

/**
 * The kernel's count of bytes this process passed to write-like system calls (all threads,
 * including libuv's pool). It does not depend on the code under test reporting its own writes.
 */
export interface IoCounters {
  wchar: number
  syscw: number
}

export function readIo(): IoCounters {
  const text = readFileSync('/proc/self/io', 'utf8')
  return { wchar: field(text, 'wchar'), syscw: field(text, 'syscw') }
}

export function ioAvailable(): boolean {
  try {
    readIo()
    return true
  } catch {
    return false
  }
}

/** Peak resident set size (VmHWM) and current OS thread count of this process. */
export function readStatus(): { peakRssBytes: number; rssBytes: number; threads: number } {
  const text = readFileSync('/proc/self/status', 'utf8')
  return {
    peakRssBytes: field(text, 'VmHWM') * 1024,
    rssBytes: field(text, 'VmRSS') * 1024,
    threads: field(text, 'Threads'),
  }
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)
  if (!match?.[1]) throw new Error(`no ${name} in /proc/self`)
  return Number(match[1])
}
