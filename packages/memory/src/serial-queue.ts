/**
 * Runs tasks one after the other, each starting once the previous one settled (a failure does not
 * stop the ones queued behind it). The store's lane to its backend, and the file backend's lane to
 * its journal, are each one of these.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}
