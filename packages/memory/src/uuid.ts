import { randomFillSync } from 'node:crypto'

/**
 * Random (version 4) UUIDs for the ids add() generates, as `crypto.randomUUID()` makes them: 122
 * bits from the same cryptographic source, the same lower-case form. About a tenth of its cost,
 * and a flat string: Node's joins 20 pieces, and the resulting rope of a few hundred bytes stays
 * in memory with the stored message until something flattens it (the first JSON.stringify).
 */

// Random bytes for 1024 ids, refilled when used up (each refill is a call into the crypto library).
const POOL_BYTES = 16384
const pool = Buffer.allocUnsafeSlow(POOL_BYTES)
let used = POOL_BYTES

// The two character codes of each byte's lower-case hex digits: HIGH[b] and LOW[b].
const HIGH = new Uint8Array(256)
const LOW = new Uint8Array(256)
for (let b = 0; b < 256; b++) {
  const hex = b.toString(16).padStart(2, '0')
  HIGH[b] = hex.charCodeAt(0)
  LOW[b] = hex.charCodeAt(1)
}

const DASH = 0x2d
const fromCodes = String.fromCharCode

/** A new random UUID, such as `'9b2c4c9e-2f5a-4d1e-8c3b-6a0f1e2d3c4b'`. */
export function randomId(): string {
  if (used + 16 > POOL_BYTES) {
    randomFillSync(pool)
    used = 0
  }
  const p = pool
  const o = used
  used += 16
  // The version (4) in the high nibble of byte 6, the variant (binary 10) in the top bits of byte 8.
  const b6 = ((p[o + 6] as number) & 0x0f) | 0x40
  const b8 = ((p[o + 8] as number) & 0x3f) | 0x80
  const b0 = p[o] as number
  const b1 = p[o + 1] as number
  const b2 = p[o + 2] as number
  const b3 = p[o + 3] as number
  const b4 = p[o + 4] as number
  const b5 = p[o + 5] as number
  const b7 = p[o + 7] as number
  const b9 = p[o + 9] as number
  const b10 = p[o + 10] as number
  const b11 = p[o + 11] as number
  const b12 = p[o + 12] as number
  const b13 = p[o + 13] as number
  const b14 = p[o + 14] as number
  const b15 = p[o + 15] as number
  const h = HIGH
  const l = LOW
  // One call with the 36 codes builds the string in one piece.
  return fromCodes(
    h[b0] as number,
    l[b0] as number,
    h[b1] as number,
    l[b1] as number,
    h[b2] as number,
    l[b2] as number,
    h[b3] as number,
    l[b3] as number,
    DASH,
    h[b4] as number,
    l[b4] as number,
    h[b5] as number,
    l[b5] as number,
    DASH,
    h[b6] as number,
    l[b6] as number,
    h[b7] as number,
    l[b7] as number,
    DASH,
    h[b8] as number,
    l[b8] as number,
    h[b9] as number,
    l[b9] as number,
    DASH,
    h[b10] as number,
    l[b10] as number,
    h[b11] as number,
    l[b11] as number,
    h[b12] as number,
    l[b12] as number,
    h[b13] as number,
    l[b13] as number,
    h[b14] as number,
    l[b14] as number,
    h[b15] as number,
    l[b15] as number,
  )
}
