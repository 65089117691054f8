// The repository's one Ogg/Opus checker (RFC 3533 + RFC 7845), for the voice package's tests and the
// example bot's: it walks every page and packet, recomputes each page CRC bit by bit (so it shares
// no code with the muxer under test) and throws an Error naming the first problem.

export interface OggPage {
  flags: number
  granule: bigint
  serial: number
  sequence: number
  packets: Uint8Array[]
  /** True when the page's last packet continues on the next page. */
  continued: boolean
}

export interface CheckedOpus {
  pages: OggPage[]
  head: {
    version: number
    channels: number
    preSkip: number
    inputSampleRate: number
    gain: number
    family: number
  }
  vendor: string
  audioPackets: Uint8Array[]
  finalGranule: bigint
  /** Length of the audio at 48 kHz: the final granule position less the pre-skip. */
  durationMs: number
}

function crcBitwise(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) {
    crc ^= byte << 24
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0
  }
  return crc >>> 0
}

/** Every page of an Ogg file with its packets, checking capture patterns, lengths and CRCs. */
export function readPages(file: Uint8Array): OggPage[] {
  const pages: OggPage[] = []
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  let offset = 0
  let carry: number[] = []
  while (offset < file.length) {
    if (String.fromCharCode(...file.subarray(offset, offset + 4)) !== 'OggS') {
      throw new Error(`no capture pattern at byte ${offset}`)
    }
    if (file[offset + 4] !== 0) throw new Error('unknown Ogg version')
    const flags = file[offset + 5] as number
    const granule = view.getBigInt64(offset + 6, true)
    const serial = view.getUint32(offset + 14, true)
    const sequence = view.getUint32(offset + 18, true)
    const storedCrc = view.getUint32(offset + 22, true)
    const segmentCount = file[offset + 26] as number
    const lacing = file.subarray(offset + 27, offset + 27 + segmentCount)
    const bodyLength = lacing.reduce((sum, n) => sum + n, 0)
    const end = offset + 27 + segmentCount + bodyLength
    if (end > file.length) throw new Error(`page ${sequence} runs past the end of the file`)
    const copy = file.slice(offset, end)
    copy.fill(0, 22, 26)
    const crc = crcBitwise(copy)
    if (crc !== storedCrc) throw new Error(`page ${sequence}: CRC ${storedCrc} stored, ${crc} computed`)
    const packets: Uint8Array[] = []
    let body = offset + 27 + segmentCount
    let current = carry
    for (const size of lacing) {
      current.push(...file.subarray(body, body + size))
      body += size
      if (size < 255) {
        packets.push(Uint8Array.from(current))
        current = []
      }
    }
    carry = current
    pages.push({ flags, granule, serial, sequence, packets, continued: current.length > 0 })
    offset = end
  }
  if (carry.length > 0) throw new Error('the last packet is unterminated')
  return pages
}

/**
 * Checks a whole Ogg/Opus file: one logical stream, page sequence and BOS/EOS flags, OpusHead alone
 * on the first page, OpusTags on the second, granule positions that match the packets' samples.
 */
export function checkOggOpus(file: Uint8Array): CheckedOpus {
  const pages = readPages(file)
  if (pages.length < 3) throw new Error(`expected at least 3 pages, got ${pages.length}`)
  const [first, second] = pages as [OggPage, OggPage]
  const serial = first.serial
  pages.forEach((page, index) => {
    if (page.serial !== serial) throw new Error('more than one logical stream')
    if (page.sequence !== index) throw new Error(`page ${index} has sequence number ${page.sequence}`)
    const bos = (page.flags & 0x02) !== 0
    const eos = (page.flags & 0x04) !== 0
    if (bos !== (index === 0)) throw new Error(`BOS flag wrong on page ${index}`)
    if (eos !== (index === pages.length - 1)) throw new Error(`EOS flag wrong on page ${index}`)
  })
  // RFC 7845 section 3: OpusHead alone on the first page, OpusTags starting the second, granule 0.
  if (first.packets.length !== 1 || first.granule !== 0n)
    throw new Error('first page must hold only OpusHead')
  const head = first.packets[0] as Uint8Array
  const headView = new DataView(head.buffer, head.byteOffset, head.byteLength)
  if (String.fromCharCode(...head.subarray(0, 8)) !== 'OpusHead') throw new Error('no OpusHead')
  if (second.granule !== 0n) throw new Error('OpusTags page must have granule 0')
  const tags = second.packets[0] as Uint8Array
  if (String.fromCharCode(...tags.subarray(0, 8)) !== 'OpusTags') throw new Error('no OpusTags')
  const tagsView = new DataView(tags.buffer, tags.byteOffset, tags.byteLength)
  const vendorLength = tagsView.getUint32(8, true)
  const vendor = new TextDecoder().decode(tags.subarray(12, 12 + vendorLength))
  const commentCount = tagsView.getUint32(12 + vendorLength, true)
  let cursor = 16 + vendorLength
  for (let i = 0; i < commentCount; i++) cursor += 4 + tagsView.getUint32(cursor, true)
  if (cursor > tags.length) throw new Error('OpusTags comments run past the packet')

  const audioPackets = pages.slice(2).flatMap((page) => page.packets)
  let previous = 0n
  let decoded = 0n
  for (const page of pages.slice(2)) {
    for (const packet of page.packets) decoded += BigInt(samplesInPacket(packet))
    if (page.granule < previous) throw new Error(`granule goes backwards on page ${page.sequence}`)
    const isLast = (page.flags & 0x04) !== 0
    // Granule = samples decoded through the page's last packet; only the last page may end-trim.
    if (!isLast && page.granule !== decoded) {
      throw new Error(`page ${page.sequence}: granule ${page.granule}, decoded ${decoded}`)
    }
    if (isLast && page.granule > decoded) throw new Error('final granule beyond the decoded samples')
    previous = page.granule
  }
  const finalGranule = (pages.at(-1) as OggPage).granule
  const preSkip = headView.getUint16(10, true)
  if (finalGranule < BigInt(preSkip)) throw new Error('final granule smaller than the pre-skip')
  return {
    pages,
    head: {
      version: head[8] as number,
      channels: head[9] as number,
      preSkip,
      inputSampleRate: headView.getUint32(12, true),
      gain: headView.getInt16(16, true),
      family: head[18] as number,
    },
    vendor,
    audioPackets,
    finalGranule,
    durationMs: Number(finalGranule - BigInt(preSkip)) / 48,
  }
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 section 3.1). */
export function samplesInPacket(packet: Uint8Array): number {
  const toc = packet[0] as number
  const config = toc >> 3
  let frame: number
  if (config < 12) frame = [480, 960, 1920, 2880][config % 4] as number
  else if (config < 16) frame = [480, 960][config % 2] as number
  else frame = [120, 240, 480, 960][config % 4] as number
  const code = toc & 0x03
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] as number) & 0x3f : 2
  return frame * frames
}
