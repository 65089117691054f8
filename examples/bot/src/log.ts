import { formatWithOptions } from 'node:util'
import type { Redact } from './redact.js'

/** Where the bot reports what it does and what failed; every line passes through one redaction. */
export interface Log {
  info(line: string): void
  /** `error`, when given, is printed with its stack, its `cause` and its own fields. */
  error(message: string, error?: unknown): void
}

/** Prints to stdout (info) and stderr (errors), secrets replaced by `***`. */
export function consoleLog(redact: Redact): Log {
  return {
    info: (line) => console.log(redact(line)),
    error: (message, error) =>
      console.error(redact(error === undefined ? message : formatWithOptions({ depth: 6 }, message, error))),
  }
}
