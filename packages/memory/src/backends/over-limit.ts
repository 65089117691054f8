/** The conversations a backend found longer than `maxMessages` when it opened a store. */
export interface OverLimit {
  /** How many conversations are longer than `maxMessages`. */
  conversations: number
  /** The id of the longest one. */
  longestId: string
  /** Its length, in messages. */
  longest: number
}

/**
 * The warning a backend gives once per open about conversations longer than `maxMessages` (a
 * store written with a larger limit, or by the Python bot), so a low limit does not cost history
 * without a word. One wording for every backend: `where` names the store as its errors do,
 * `dropped` says where and when the oldest messages go ("from the file at its next write").
 */
export function overLimitWarning(
  where: string,
  maxMessages: number,
  dropped: string,
  found: OverLimit,
): string {
  const many =
    found.conversations === 1 ? '1 conversation holds' : `${found.conversations} conversations hold`
  return (
    `[@taurobot/memory] ${where}: ${many} more than maxMessages (${maxMessages}) ` +
    `messages, the longest ${JSON.stringify(found.longestId)} with ${found.longest}. Only the newest ` +
    `${maxMessages} of each are kept: their oldest messages are dropped ${dropped}. ` +
    'To keep them, open the store with a larger maxMessages.'
  )
}
