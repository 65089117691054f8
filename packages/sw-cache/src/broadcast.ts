import { checkChannelName } from './development.js'
import type { Revalidation } from './options.js'

/** The message pages receive when cached content changed. */
export interface UpdateMessage {
  type: 'sw-cache:updated'
  /** Cache that holds the new content. */
  cacheName: string
  /** URL whose content changed. */
  url: string
  /** When the new copy was stored, in ms since the epoch (`Date.now()` in the worker). */
  at: number
}

/** Options of {@link broadcastUpdate}. */
export interface BroadcastUpdateOptions {
  /**
   * `BroadcastChannel` the messages are posted on; pages listen with
   * `new BroadcastChannel(channelName).onmessage`.
   * @default 'sw-cache'
   */
  channelName?: string
}

/**
 * Builds an `onRevalidated` hook that posts one {@link UpdateMessage} per change, after the new
 * copy is in the cache (so a page that reloads the URL gets it). "Changed" is decided by
 * {@link hasChanged}.
 *
 * @example
 * ```ts
 * staleWhileRevalidate(e, { cacheName: 'taurobot-v2', onRevalidated: broadcastUpdate() })
 * // in the page:
 * new BroadcastChannel('sw-cache').onmessage = ({ data }) => console.log(`${data.url} changed`)
 * ```
 */
export function broadcastUpdate({
  channelName = 'sw-cache',
}: BroadcastUpdateOptions = {}): (revalidation: Revalidation) => Promise<void> {
  checkChannelName(channelName)
  return async ({ request, cacheName, old, fresh }) => {
    if (await hasChanged(old, fresh)) {
      const channel = new BroadcastChannel(channelName)
      channel.postMessage({
        type: 'sw-cache:updated',
        cacheName,
        url: request.url,
        at: Date.now(),
      } satisfies UpdateMessage)
      channel.close()
    }
  }
}

/**
 * True when `fresh` carries different content than `old`: decided by `ETag` when both have one,
 * else by a different `Last-Modified` or `Content-Length`, else by comparing the bodies chunk by
 * chunk (memory bounded by one chunk, stops at the first difference). Equal `Last-Modified` values
 * are not trusted on their own: they have a one-second resolution. Consumes both bodies.
 */
export async function hasChanged(old: Response, fresh: Response): Promise<boolean> {
  // Whether both responses carry `name` and differ on it; undefined when one lacks it.
  const differ = (name: string) => {
    const a = old.headers.get(name)
    const b = fresh.headers.get(name)
    return a && b ? a !== b : undefined
  }
  return (
    differ('etag') ??
    (differ('last-modified') || differ('content-length') || (await bodiesDiffer(old, fresh)))
  )
}

async function bodiesDiffer(old: Response, fresh: Response): Promise<boolean> {
  // Both written out rather than mapped over, here and below: fewer bytes after gzip.
  const a = old.body?.getReader()
  const b = fresh.body?.getReader()
  // Each body's current chunk (undefined once it ended; none read yet at first) and the position of
  // its next byte in it.
  let x: ArrayLike<number> | undefined = []
  let y: ArrayLike<number> | undefined = x
  let i = 0
  let j = 0
  try {
    // A missing chunk has no length: an ended body is never refilled. The chunks of two bodies are
    // two objects, so once both are there, !== is true for bytes that differ.
    for (;;)
      if (i === x?.length) {
        x = (await a?.read())?.value
        i = 0
      } else if (j === y?.length) {
        y = (await b?.read())?.value
        j = 0
      } else if (!x || !y || x[i++] !== y[j++]) return x !== y
  } finally {
    a?.cancel().catch(() => {})
    b?.cancel().catch(() => {})
  }
}
