import type { Message } from '../../message.js'

/**
 * A conversation of a loaded snapshot kept as its checked JSON bytes, parsed when it is first read
 * or changed: opening a large file then costs a check of its bytes instead of building every
 * message, most of which a bot never reads again. What the store needs about every conversation
 * without reading it (how many messages, the newest one for pruning) is known from the check.
 */
export class DeferredConversation {
  constructor(
    /** The conversation's array, exactly as in the file: checked, so it parses. */
    private readonly bytes: Buffer,
    /** Commas between elements where the array is cut into groups for parsing (offsets in `bytes`). */
    private readonly cuts: readonly number[],
    /** How many messages it holds. */
    readonly count: number,
    /** Its newest message, parsed. */
    readonly last: Message | undefined,
  ) {}

  /**
   * The messages, newly parsed at every call (the caller owns them). In groups cut at `cuts`: V8
   * decodes strings above about 128 KB several times slower, and a conversation may be large.
   */
  parse(): Message[] {
    const bytes = this.bytes
    if (this.cuts.length === 0) return JSON.parse(bytes.toString('utf8')) as Message[]
    let list: Message[] = []
    let from = 0
    for (let k = 0; k <= this.cuts.length; k++) {
      const cut = this.cuts[k] ?? bytes.length - 1
      // The group's bytes as an array of its own: its first comma reads as "[", its last as "]".
      const first = bytes[from] as number
      const closing = bytes[cut] as number
      bytes[from] = 0x5b
      bytes[cut] = 0x5d
      try {
        const items = JSON.parse(bytes.toString('utf8', from, cut + 1)) as Message[]
        if (list.length === 0) list = items
        else for (const item of items) list.push(item)
      } finally {
        bytes[from] = first
        bytes[cut] = closing
      }
      from = cut
    }
    return list
  }
}
