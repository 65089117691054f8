/**
 * Answers each message `type` a page posts to this worker with `reply()`, through the port the page
 * sent along (`ask()` in client.ts); a message sent without one is acted on all the same. The one
 * message listener of serveUpdates and countRequests, written once.
 */
export function answer(type: string, reply: () => unknown): void {
  addEventListener('message', ({ data, ports: [port] }: MessageEvent) => {
    if (data === type) {
      // postMessage copies the value at once, so `reply` may replace it afterwards (a reset).
      const value = reply()
      port?.postMessage(value)
    }
  })
}
