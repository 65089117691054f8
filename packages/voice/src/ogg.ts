// A minimal Ogg muxer for one Opus stream, per RFC 3533 (Ogg) and RFC 7845 (Ogg encapsulation of
// Opus). Granule positions count 48 kHz samples including the pre-skip; the last page's granule is
// set to exactly pre-skip + the number of real samples, so players trim the encoder's padding and
// the playback length equals the synthesized length.

const crcTable = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    table[i] = r >>> 0
  }
  return table
})()

/** CRC-32 as used by Ogg pages: polynomial 0x04C11DB7, no reflection, zero init, no final xor. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < bytes.length; i++) {
    crc = ((crc << 8) ^ (crcTable[((crc >>> 24) ^ (bytes[i] as number)) & 0xff] as number)) >>> 0
  }
  return crc
}

const flagBos = 0x02
const flagEos = 0x04

/** Opus packets to wrap into an Ogg stream. */
export interface OggOpusInput {
  /** Encoded Opus packets, each `frameSamples` long at 48 kHz. */
  packets: Uint8Array[]
  /** Samples per packet at 48 kHz (960 for 20 ms frames). */
  frameSamples: number
  /** Samples the decoder must drop at the start (the encoder's lookahead). */
  preSkip: number
  /** Number of real audio samples at 48 kHz (the rest of the last packet is padding). */
  sampleCount: number
  /** Sample rate of the original audio, recorded in OpusHead for information. */
  inputSampleRate: number
  /** Ogg stream serial number. */
  serial: number
  /** Vendor string for OpusTags. */
  vendor: string
  /** Packets per page: 50 x 20 ms is one second of audio per page. */
  packetsPerPage?: number
}

function page(
  serial: number,
  sequence: number,
  granule: bigint,
  flags: number,
  packets: readonly Uint8Array[],
): Uint8Array {
  const lacing: number[] = []
  let bodyLength = 0
  for (const packet of packets) {
    let remaining = packet.length
    while (remaining >= 255) {
      lacing.push(255)
      remaining -= 255
    }
    lacing.push(remaining)
    bodyLength += packet.length
  }
  if (lacing.length > 255)
    throw new RangeError(`an Ogg page holds at most 255 segments, got ${lacing.length}`)
  const out = new Uint8Array(27 + lacing.length + bodyLength)
  const view = new DataView(out.buffer)
  out.set([0x4f, 0x67, 0x67, 0x53]) // "OggS"
  out[4] = 0 // stream structure version
  out[5] = flags
  view.setBigInt64(6, granule, true)
  view.setUint32(14, serial, true)
  view.setUint32(18, sequence, true)
  // bytes 22..25: CRC, computed with the field set to zero
  out[26] = lacing.length
  out.set(lacing, 27)
  let offset = 27 + lacing.length
  for (const packet of packets) {
    out.set(packet, offset)
    offset += packet.length
  }
  view.setUint32(22, oggCrc32(out), true)
  return out
}

function opusHead(preSkip: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19)
  const view = new DataView(head.buffer)
  head.set(new TextEncoder().encode('OpusHead'))
  head[8] = 1 // version
  head[9] = 1 // channel count: mono
  view.setUint16(10, preSkip, true)
  view.setUint32(12, inputSampleRate, true)
  view.setInt16(16, 0, true) // output gain
  head[18] = 0 // channel mapping family 0: mono/stereo, no table
  return head
}

function opusTags(vendor: string): Uint8Array {
  const encoder = new TextEncoder()
  const vendorBytes = encoder.encode(vendor)
  const out = new Uint8Array(8 + 4 + vendorBytes.length + 4)
  const view = new DataView(out.buffer)
  out.set(encoder.encode('OpusTags'))
  view.setUint32(8, vendorBytes.length, true)
  out.set(vendorBytes, 12)
  view.setUint32(12 + vendorBytes.length, 0, true) // no user comments
  return out
}

/** Builds a complete Ogg Opus file (RFC 7845) from encoded packets. */
export function muxOggOpus(input: OggOpusInput): Uint8Array {
  const { packets, frameSamples, preSkip, sampleCount, serial } = input
  const perPage = input.packetsPerPage ?? 50
  if (packets.length === 0) throw new RangeError('an Ogg Opus stream needs at least one audio packet')
  const finalGranule = BigInt(preSkip + sampleCount)
  if (finalGranule > BigInt(packets.length * frameSamples)) {
    throw new RangeError(
      `pre-skip + samples (${finalGranule}) exceed the decoded length of ${packets.length} packets`,
    )
  }
  const pages: Uint8Array[] = [
    page(serial, 0, 0n, flagBos, [opusHead(preSkip, input.inputSampleRate)]),
    page(serial, 1, 0n, 0, [opusTags(input.vendor)]),
  ]
  let sequence = 2
  let start = 0
  while (start < packets.length) {
    let end = start
    let segments = 0
    while (end < packets.length && end - start < perPage) {
      const needed = Math.floor((packets[end] as Uint8Array).length / 255) + 1
      if (segments + needed > 255) break
      segments += needed
      end++
    }
    const isLast = end === packets.length
    // The last page carries the end-trimmed granule: decoders drop the padding after it.
    const granule = isLast ? finalGranule : BigInt(end * frameSamples)
    pages.push(page(serial, sequence++, granule, isLast ? flagEos : 0, packets.slice(start, end)))
    start = end
  }
  const total = pages.reduce((sum, p) => sum + p.length, 0)
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of pages) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
