/**
 * Where the Redis backend keeps things. Conversations are spread over a fixed number of buckets;
 * every key of a bucket carries the bucket's hash tag, so a bucket lives in one Cluster slot and
 * one Lua script can update a conversation's list and the bucket's index atomically.
 *
 * - `<prefix>{<b>}:m:<id>`  list: the conversation's messages as JSON, oldest first
 * - `<prefix>{<b>}:i`       sorted set: conversation id → epoch ms of its newest message
 * - `<prefix>{<b>}:t`       hash: conversation id → its newest message's timestamp, as written
 * - `<prefix>{<b>}:w:<w>`   string: the last sequence number writer `<w>` applied in this bucket
 * - `<prefix>format`        string: the layout version and bucket count, checked at open
 * - `<prefix>limit`         string: the largest `maxMessages` a store opened here with, so that an
 *                           open with as large a limit skips looking for longer conversations
 */
export class RedisLayout {
  constructor(
    readonly prefix: string,
    readonly buckets: number,
  ) {}

  /** The bucket of a conversation: FNV-1a of its UTF-8 bytes, so every process agrees. */
  bucketOf(id: string): number {
    let hash = 0x811c9dc5
    // An ASCII id (every numeric chat id) is its own UTF-8: hash it without encoding it.
    for (let i = 0; i < id.length; i++) {
      const unit = id.charCodeAt(i)
      if (unit > 0x7f) return this.bucketOfBytes(Buffer.from(id, 'utf8'))
      hash = Math.imul(hash ^ unit, 0x01000193) >>> 0
    }
    return hash % this.buckets
  }

  private bucketOfBytes(bytes: Uint8Array): number {
    let hash = 0x811c9dc5
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
    return hash % this.buckets
  }

  messages(bucket: number, id: string): string {
    return `${this.prefix}{${bucket}}:m:${id}`
  }

  index(bucket: number): string {
    return `${this.prefix}{${bucket}}:i`
  }

  stamps(bucket: number): string {
    return `${this.prefix}{${bucket}}:t`
  }

  writer(bucket: number, writerId: string): string {
    return `${this.prefix}{${bucket}}:w:${writerId}`
  }

  format(): string {
    return `${this.prefix}format`
  }

  limit(): string {
    return `${this.prefix}limit`
  }
}

/** The layout version written to the format key; bump it when keys or encodings change. */
export const LAYOUT_VERSION = 1

/**
 * A key prefix whose first `{` is directly followed by `}` would make Redis hash whole keys, so a
 * conversation's keys could land in different Cluster slots.
 */
export function hasEmptyHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{')
  return open !== -1 && prefix[open + 1] === '}'
}
