/** What a structural walk over an Ogg/Opus file found. */
export interface OggOpusInfo {
  pages: number
  channels: number
  preSkip: number
  inputSampleRate: number
  /** From the last page's granule position, pre-skip removed, at 48 kHz. */
  durationMs: number
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    table[i] = r >>> 0
  }
  return table
})()

function oggCrc(page: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < page.length; i++) {
    // The checksum field itself (bytes 22..25) counts as zero.
    const byte = i >= 22 && i < 26 ? 0 : (page[i] ?? 0)
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0
  }
  return crc
}

/**
 * Checks an Ogg/Opus file page by page (RFC 3533 and RFC 7845): capture patterns, page CRCs,
 * sequence numbers, one stream, OpusHead then OpusTags, and a final page marked end-of-stream.
 * Throws an Error naming the first problem.
 */
export function checkOggOpus(data: Uint8Array): OggOpusInfo {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const text = (at: number, n: number) => String.fromCharCode(...data.subarray(at, at + n))
  let offset = 0
  let pages = 0
  let serial: number | undefined
  let granule = 0n
  let lastFlags = 0
  const packets: Uint8Array[] = []
  let partial: number[] = []
  while (offset < data.length) {
    if (text(offset, 4) !== 'OggS')
      throw new Error(`page ${pages}: no OggS capture pattern at byte ${offset}`)
    if (data[offset + 4] !== 0) throw new Error(`page ${pages}: unknown Ogg version`)
    lastFlags = data[offset + 5] ?? 0
    granule = view.getBigInt64(offset + 6, true)
    const pageSerial = view.getUint32(offset + 14, true)
    if (serial !== undefined && pageSerial !== serial) throw new Error(`page ${pages}: a second stream`)
    serial = pageSerial
    if (view.getUint32(offset + 18, true) !== pages) throw new Error(`page ${pages}: wrong sequence number`)
    const segments = data[offset + 26] ?? 0
    const lacing = data.subarray(offset + 27, offset + 27 + segments)
    const bodyLength = lacing.reduce((a, b) => a + b, 0)
    const end = offset + 27 + segments + bodyLength
    if (end > data.length) throw new Error(`page ${pages}: truncated`)
    const page = data.subarray(offset, end)
    if (oggCrc(page) !== view.getUint32(offset + 22, true)) throw new Error(`page ${pages}: bad CRC`)
    let at = offset + 27 + segments
    for (const size of lacing) {
      partial.push(...data.subarray(at, at + size))
      at += size
      if (size < 255) {
        packets.push(Uint8Array.from(partial))
        partial = []
      }
    }
    pages++
    offset = end
  }
  const head = packets[0]
  if (head === undefined || String.fromCharCode(...head.subarray(0, 8)) !== 'OpusHead') {
    throw new Error('the first packet is not OpusHead')
  }
  const tags = packets[1]
  if (tags === undefined || String.fromCharCode(...tags.subarray(0, 8)) !== 'OpusTags') {
    throw new Error('the second packet is not OpusTags')
  }
  if ((lastFlags & 4) === 0) throw new Error('the last page is not marked end-of-stream')
  const headView = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const preSkip = headView.getUint16(10, true)
  return {
    pages,
    channels: head[9] ?? 0,
    preSkip,
    inputSampleRate: headView.getUint32(12, true),
    durationMs: (Number(granule) - preSkip) / 48,
  }
}
