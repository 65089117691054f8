/** A store as the exit hooks see it. */
export interface ExitParticipant {
  /** Writes what is pending, and completes the snapshot as close() would; must not throw synchronously. */
  flushForExit(): Promise<void>
  /** Flushes and releases resources; must not throw synchronously. */
  closeForExit(): Promise<void>
}

const participants = new Set<ExitParticipant>()
const SIGNALS = ['SIGINT', 'SIGTERM'] as const
type Signal = (typeof SIGNALS)[number]
// If a close hangs (a dead network backend), the signal is re-raised anyway after this long.
const SIGNAL_GRACE_MS = 5000
let exiting = false
// The close of every store that a signal started, until it settles (see signalClose).
let closingAll: Promise<void> | undefined

function onSignal(signal: Signal): void {
  // A second signal while flushing (Ctrl-C pressed again) means: stop now.
  if (exiting) {
    reraise(signal)
    return
  }
  exiting = true
  const all = [...participants]
  const grace = setTimeout(() => reraise(signal), SIGNAL_GRACE_MS)
  grace.unref()
  const closed = Promise.allSettled(all.map((participant) => participant.closeForExit())).then(() => {
    clearTimeout(grace)
    reraise(signal)
  })
  closingAll = closed
  void closed.finally(() => {
    if (closingAll === closed) closingAll = undefined
  })
}

/**
 * The close of every store that a signal started, while it runs. A store closed by the signal
 * holds back the `closed` rejections of calls made meanwhile until this settles: the signal is
 * re-raised first, so an unhandled rejection cannot end the process while another store writes.
 */
export function signalClose(): Promise<void> | undefined {
  return closingAll
}

// Listening to a signal replaces Node's default of exiting, so once the stores are flushed the
// signal is sent again without our listener: the exit code stays 130/143 as the caller expects.
// When the application listens to the signal itself, it owns the decision to exit.
function reraise(signal: Signal): void {
  uninstall()
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  else exiting = false
}

const handlers: Record<Signal, () => void> = {
  SIGINT: () => onSignal('SIGINT'),
  SIGTERM: () => onSignal('SIGTERM'),
}

function onBeforeExit(): void {
  // beforeExit fires again whenever the loop empties; a flush that has nothing to do, and a
  // snapshot rewrite with nothing new or that failed on this journal, schedule no I/O, so this
  // cannot loop forever. Failures are reported through the store's error and warning events.
  for (const participant of participants) void participant.flushForExit()
}

let installed = false

function install(): void {
  if (installed) return
  installed = true
  for (const signal of SIGNALS) process.on(signal, handlers[signal])
  process.on('beforeExit', onBeforeExit)
}

function uninstall(): void {
  if (!installed) return
  installed = false
  for (const signal of SIGNALS) process.off(signal, handlers[signal])
  process.off('beforeExit', onBeforeExit)
}

/** Flush this store on SIGINT, SIGTERM and beforeExit until it is unregistered. */
export function registerExitHooks(participant: ExitParticipant): void {
  participants.add(participant)
  install()
}

/** Stops watching the process for this store. */
export function unregisterExitHooks(participant: ExitParticipant): void {
  participants.delete(participant)
  if (participants.size === 0 && !exiting) uninstall()
}
