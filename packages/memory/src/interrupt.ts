// SIGINT and SIGTERM during `taurobot-memory migrate`: the default (dying at once) leaves a JSON
// destination locked with part of the copy in its journal only, and says nothing. Instead the copy
// stops between two conversations, the destination is closed properly, and the command says what
// was copied and exits as a process killed by the signal would (130, 143).

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const
type Stopping = keyof typeof EXIT_CODES

/** An AbortSignal fired by the first SIGINT or SIGTERM; a second one ends the process at once. */
export interface Interrupt {
  readonly signal: AbortSignal
  /** The signal received, if any. */
  readonly received: Stopping | undefined
  /** The exit code for the signal received. */
  readonly exitCode: number
  /** Restores the default handling. */
  dispose(): void
}

export function catchInterrupt(): Interrupt {
  const controller = new AbortController()
  let received: Stopping | undefined
  const handlers = new Map<Stopping, () => void>()
  for (const name of Object.keys(EXIT_CODES) as Stopping[]) {
    const handler = () => {
      if (received !== undefined) {
        // Asked twice: the user wants out now, whatever is left half-written.
        process.stderr.write(`\ntaurobot-memory: ${name} again, stopping without closing the destination\n`)
        process.exit(EXIT_CODES[name])
      }
      received = name
      process.stderr.write(
        `\ntaurobot-memory: ${name} received, stopping after the conversation being copied (${name} again to stop at once)\n`,
      )
      controller.abort()
    }
    handlers.set(name, handler)
    process.on(name, handler)
  }
  return {
    signal: controller.signal,
    get received() {
      return received
    },
    get exitCode() {
      return received === undefined ? 1 : EXIT_CODES[received]
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler)
    },
  }
}
