/** What event-loop-child.ts reports, on one stdout line starting with {@link EVENT_LOOP_MARKER}. */
export interface EventLoopReport {
  /** Event-loop busy ms per save. */
  busy: number[]
  /** Main-thread CPU ms per save; empty where schedstat is missing. */
  cpu: number[]
  /** Event-loop delay max over the window, in ms. */
  delayMax: number
  /** Snapshot rewrites seen inside the window. */
  compactions: number
  /** Saves made before the window, while V8 compiled the hot paths. */
  warmupSaves: number
  /** The largest event-loop busy ms of one warm-up save. */
  warmupMax: number
}

export const EVENT_LOOP_MARKER = 'EVENT_LOOP_RESULT'
