import { constants, setPriority } from 'node:os'

/**
 * Lowers the calling worker thread's CPU priority to below normal (nice 10), so that it gives the
 * CPU to the bot's main thread whenever both want the same core: a background write then never
 * delays the event loop. Returns whether the priority was lowered.
 *
 * On Linux the nice value belongs to the thread (setpriority on "process" 0 is the caller). Elsewhere
 * the same call would lower the whole process, the main thread included, so it is left alone.
 */
export function lowerThreadPriority(): boolean {
  if (process.platform !== 'linux') return false
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL)
    return true
  } catch {
    // Not allowed here (a sandbox without setpriority): the thread keeps the process's priority.
    return false
  }
}
