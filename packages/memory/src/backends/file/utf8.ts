import { isUtf8 } from 'node:buffer'

/**
 * The offset of the first byte of `bytes[start..end)` that is not part of valid UTF-8, or -1. The
 * common case (valid text) is one native check; the byte walk runs only on damaged input.
 */
export function firstInvalidUtf8(bytes: Buffer, start = 0, end = bytes.length): number {
  if (isUtf8(bytes.subarray(start, end))) return -1
  let i = start
  while (i < end) {
    const byte = bytes[i] as number
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte < 0xe0
          ? 2
          : byte >= 0xe0 && byte < 0xf0
            ? 3
            : byte >= 0xf0 && byte < 0xf5
              ? 4
              : 0
    if (length === 0 || i + length > end) return i
    if (!isUtf8(bytes.subarray(i, i + length))) return i
    i += length
  }
  return -1
}
