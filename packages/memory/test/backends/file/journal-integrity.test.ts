import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { crc32c } from '../../../src/backends/file/checksum.js'
import { encodeRecord, Journal, parseJournal } from '../../../src/backends/file/journal.js'
import { isMemoryError, openMemory, type RecoveredInfo } from '../../../src/index.js'
import { testScratch } from '../../helpers.js'

const { fresh, open } = testScratch()

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0)
}

/** A store whose journal holds one record per message of `contents`, in conversation "a". */
async function journalOf(contents: string[]): Promise<{ dir: string; path: string; records: string[] }> {
  const dir = await fresh()
  const path = join(dir, 'c.json')
  const memory = await open({ path, saveEvery: 1 })
  for (const content of contents) {
    await memory.add('a', { role: 'user', content })
    await memory.flush()
  }
  await memory.destroy()
  return { dir, path, records: lines(await readFile(`${path}.journal`, 'utf8')) }
}

/** Opens `path` collecting warnings and recovered events. */
async function watched(path: string) {
  const warnings: string[] = []
  const recovered: RecoveredInfo[] = []
  const memory = await open({
    path,
    onWarning: (text) => warnings.push(text),
    onRecovered: (info) => recovered.push(info),
  })
  return { memory, warnings, recovered }
}

async function corruptCopies(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(`${prefix}.corrupt-`))
}

function legacyLine(s: number, content: string): string {
  return JSON.stringify({ s, a: [['a', [{ role: 'user', content, timestamp: '2026-01-01T00:00:00.000Z' }]]] })
}

describe('journal records carry a checksum', () => {
  it('is CRC-32C (the standard check value)', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283')
    expect(crc32c(Buffer.alloc(0))).toBe(0)
  })

  it('is the bit-by-bit CRC-32C for every length and start (each step of the table form and the tail)', () => {
    const bitwise = (bytes: Uint8Array, start: number, end: number): number => {
      let crc = 0xffffffff
      for (let i = start; i < end; i++) {
        crc ^= bytes[i] as number
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
      }
      return ~crc >>> 0
    }
    const bytes = Buffer.alloc(300)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 167 + 13) & 0xff
    for (let start = 0; start < 20; start++) {
      for (let end = start; end <= bytes.length; end += 7) {
        expect(crc32c(bytes, start, end)).toBe(bitwise(bytes, start, end))
      }
    }
  })

  it('writes every record with its checksum as the last field, and reads it back', async () => {
    const { records } = await journalOf(['0', 'è 🙂'])
    expect(records).toHaveLength(2)
    for (const line of records) expect(line).toMatch(/^\{"s":\d+,.*,"crc":"[0-9a-f]{8}"\}$/)
    const encoded = encodeRecord({ s: 7, c: ['x'] })
    expect(encoded.toString()).toMatch(/^\{"s":7,"c":\["x"\],"crc":"[0-9a-f]{8}"\}\n$/)
    const parsed = parseJournal(encoded)
    expect(parsed.records.map((r) => r.s)).toEqual([7])
    expect(parsed.damaged).toEqual([])
  })

  it('loads a journal written by the previous release (no checksums), then appends checksummed records', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(`${path}.journal`, `${legacyLine(1, 'old 1')}\n${legacyLine(2, 'old 2')}\n`)
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['old 1', 'old 2'])
    expect(warnings).toEqual([])
    expect(recovered).toEqual([])
    await memory.add('a', { role: 'user', content: 'new' })
    await memory.flush()
    await memory.destroy()
    const [first, second, third] = lines(await readFile(`${path}.journal`, 'utf8'))
    expect(first).not.toContain('"crc"')
    expect(second).not.toContain('"crc"')
    expect(third).toMatch(/^\{"s":3,.*"crc":"[0-9a-f]{8}"\}$/)
    const again = await open({ path })
    expect((await again.history('a')).map((m) => m.content)).toEqual(['old 1', 'old 2', 'new'])
  })
})

describe('a damaged journal record', () => {
  it('a damaged last record is damage, not a torn write: reported, its journal kept, the rest loaded', async () => {
    const { dir, path, records } = await journalOf(['0', '1', '2'])
    // One byte changed in the last, acknowledged record: the JSON no longer parses.
    const damagedLine = (records[2] as string).replace('"role"', '"role\u0000')
    const damagedJournal = `${records[0]}\n${records[1]}\n${damagedLine}\n`
    await writeFile(`${path}.journal`, damagedJournal)
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0', '1'])
    expect(warnings.join('\n')).not.toMatch(/torn|unterminated|acknowledged/)
    expect(recovered).toHaveLength(1)
    const info = recovered[0] as RecoveredInfo
    expect(info.source).toBe(`${path}.journal`)
    expect(info.dataMayBeMissing).toBe(true)
    expect(info.message).toMatch(/1 damaged record \(line 3 at byte \d+: .*\)/)
    expect(info.message).toMatch(/damage on disk, not an interrupted write/)
    expect(await corruptCopies(dir, 'c.json.journal')).toEqual([info.keptAs?.slice(dir.length + 1)])
    expect(await readFile(info.keptAs as string, 'utf8')).toBe(damagedJournal)
    // The store was rewritten at open: the damage is gone and writing goes on.
    await memory.add('a', { role: 'user', content: '3' })
    await memory.close()
    const again = await watched(path)
    expect(again.recovered).toEqual([])
    expect((await again.memory.history('a')).map((m) => m.content)).toEqual(['0', '1', '3'])
  })

  it('a flipped byte that leaves valid JSON is caught by the checksum', async () => {
    const { path, records } = await journalOf(['0', '1', 'abc'])
    await writeFile(
      `${path}.journal`,
      `${records[0]}\n${records[1]}\n${(records[2] as string).replace('abc', 'abd')}\n`,
    )
    const { memory, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0', '1'])
    expect(recovered[0]?.message).toMatch(/line 3 at byte \d+: checksum mismatch/)
  })

  it('a damaged middle record: the valid records before and after it are kept, the gap is named', async () => {
    const { dir, path, records } = await journalOf(['0', '1', '2'])
    await writeFile(`${path}.journal`, `${records[0]}\n${records[1]?.slice(0, 10)}garbage\n${records[2]}\n`)
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0', '2'])
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.message).toMatch(/line 2 at byte \d+/)
    expect(recovered[0]?.message).toMatch(/The 2 intact records around it were loaded/)
    expect(warnings.join('\n')).toMatch(/record 3 follows record 1 \(record 2 is missing\)/)
    expect(await corruptCopies(dir, 'c.json.journal')).toHaveLength(1)
  })

  it('a message that add() would refuse is a damaged record', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const bad = JSON.stringify({ s: 2, a: [['a', [{ content: 'no role', timestamp: 't' }]]] })
    await writeFile(`${path}.journal`, `${legacyLine(1, 'fine')}\n${bad}\n`)
    const { memory, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['fine'])
    expect(recovered[0]?.message).toMatch(/line 2 at byte \d+: bad message: its role is undefined/)
  })

  it('an upsert marked ifPresent replays as a replace only; a mark other than true is a damaged record', () => {
    const message = (content: string) => ({ role: 'assistant', content, timestamp: 't', id: 'r' })
    const records = Buffer.concat([
      encodeRecord({ s: 1, o: [['a', [{ op: 'upsert', message: message('kept'), ifPresent: true }]]] }),
      Buffer.from(
        `${JSON.stringify({ s: 2, o: [['a', [{ op: 'upsert', message: message('bad'), ifPresent: false }]]] })}\n`,
      ),
      Buffer.from(`${JSON.stringify({ s: 3, o: [['a', [{ op: 'remove', id: 'r', ifPresent: true }]]] })}\n`),
    ])
    const parsed = parseJournal(records)
    expect(parsed.records.map((r) => r.s)).toEqual([1])
    expect(parsed.damaged.map((d) => [d.line, d.reason])).toEqual([
      [2, 'bad operation: a bad ifPresent flag'],
      [3, 'bad operation: a bad ifPresent flag'],
    ])
  })

  it('an unterminated final segment alone is a torn write: dropped with a warning that says so, no copy kept', async () => {
    const { dir, path, records } = await journalOf(['0', '1'])
    await writeFile(`${path}.journal`, `${records[0]}\n${records[1]?.slice(0, -3)}`)
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0'])
    expect(recovered).toEqual([])
    expect(warnings.join('\n')).toMatch(
      /dropped an unterminated final record \(\d+ bytes\) .*cut short by a crash or power loss, before it was acknowledged/,
    )
    expect(await corruptCopies(dir, 'c.json.journal')).toEqual([])
  })

  it('warns naming the sequence numbers when records skip or go backwards', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(
      `${path}.journal`,
      [legacyLine(1, 'one'), legacyLine(2, 'two'), legacyLine(4, 'four'), legacyLine(3, 'three')]
        .map((line) => `${line}\n`)
        .join(''),
    )
    const { memory, warnings, recovered } = await watched(path)
    // Record 3 was never applied: it is loaded where the file holds it, not dropped.
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['one', 'two', 'four', 'three'])
    const text = warnings.join('\n')
    expect(text).not.toMatch(/missing/)
    expect(text).toMatch(/record 3 follows record 4, out of order \(loaded all the same/)
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.dataMayBeMissing).toBe(false)
    expect(recovered[0]?.message).toMatch(/holds a record out of order \(record 3, .*Nothing is lost/)
    expect(await corruptCopies(dir, 'c.json.journal')).toHaveLength(1)
    // Written as a new snapshot at open: the next open finds nothing to report.
    await memory.close()
    const again = await watched(path)
    expect(again.recovered).toEqual([])
    expect(again.warnings).toEqual([])
    expect((await again.memory.history('a')).map((m) => m.content)).toEqual(['one', 'two', 'four', 'three'])
  })

  it('a record that really is missing is named, and a second copy of an applied record is skipped', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(
      `${path}.journal`,
      [legacyLine(1, 'one'), legacyLine(2, 'two'), legacyLine(2, 'two'), legacyLine(5, 'five')]
        .map((line) => `${line}\n`)
        .join(''),
    )
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['one', 'two', 'five'])
    const text = warnings.join('\n')
    expect(text).toMatch(/record 2 follows record 2, going backwards \(skipped by replay/)
    expect(text).toMatch(/record 5 follows record 2 \(records 3 to 4 are missing\)/)
    expect(recovered).toEqual([])
  })

  it('warns when the journal does not continue where the snapshot ends', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, '{"conversations": {}, "taurobot_memory": {"seq": 2}}')
    await writeFile(`${path}.journal`, `${legacyLine(6, 'six')}\n`)
    const { memory, warnings } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['six'])
    expect(warnings.join('\n')).toMatch(
      /snapshot holds records up to 2 and the journal continues at 6 \(records 3 to 5 are missing\)/,
    )
  })

  it('warns once, with the byte offset, about bytes that are not UTF-8 in a record without checksum', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const line = Buffer.from(`${legacyLine(1, 'caf_')}\n${legacyLine(2, 'x_')}\n`)
    const first = line.indexOf('_')
    line[first] = 0xe9
    line[line.indexOf('_', first + 1)] = 0xff
    await writeFile(`${path}.journal`, line)
    const { memory, warnings } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['caf\ufffd', 'x\ufffd'])
    const utf8 = warnings.filter((text) => text.includes('not valid UTF-8'))
    expect(utf8).toHaveLength(1)
    expect(utf8[0]).toContain(`the first at byte ${first}`)
  })
})

describe('a damaged snapshot', () => {
  it('accepts a snapshot that starts with a UTF-8 byte-order mark', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const python = {
      conversations: { '42': [{ role: 'user', content: 'ciao', timestamp: '2025-10-12T09:15:02' }] },
      last_updated: '2025-10-12T09:15:03',
    }
    await writeFile(path, `\ufeff${JSON.stringify(python, null, 2)}`)
    const { memory, recovered } = await watched(path)
    expect(recovered).toEqual([])
    expect((await memory.history(42)).map((m) => m.content)).toEqual(['ciao'])
    expect(await corruptCopies(dir, 'c.json')).toEqual([])
  })

  it.each([
    ['-5', -5],
    ['2^53 - 1', 2 ** 53 - 1],
  ])('treats a sequence number of %s as damage and restores from .bak', async (_name, seq) => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const good = { conversations: { a: [{ role: 'user', content: 'backed up', timestamp: 't' }] } }
    await writeFile(`${path}.bak`, JSON.stringify(good))
    await writeFile(path, JSON.stringify({ ...good, taurobot_memory: { seq } }))
    const { memory, recovered } = await watched(path)
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.message).toMatch(/"taurobot_memory" is not \{"seq": <integer from 0 to \d+>\}/)
    await memory.add('a', { role: 'user', content: 'after' })
    await memory.flush()
    await memory.destroy()
    const again = await watched(path)
    expect(again.recovered).toEqual([])
    expect((await again.memory.history('a')).map((m) => m.content)).toEqual(['backed up', 'after'])
  })

  it('warns, with the byte offset, about bytes that are not UTF-8', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const bytes = Buffer.from(
      '{"conversations": {"a": [{"role": "user", "content": "caf_", "timestamp": "t"}]}}',
    )
    const at = bytes.indexOf('_')
    bytes[at] = 0xe9
    await writeFile(path, bytes)
    const { memory, warnings } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['caf\ufffd'])
    expect(warnings.join('\n')).toMatch(
      new RegExp(`snapshot ".*c\\.json" holds bytes that are not valid UTF-8 \\(the first at byte ${at}\\)`),
    )
  })

  it('keeps one .corrupt copy per distinct content, however often the open fails', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(`${path}.bak`, '{"conversations": {}}')
    await writeFile(path, '{"conversations": {"a": [{"role": "us')
    // A directory where the journal should be: every open fails after the snapshot's restore began.
    await mkdir(`${path}.journal`)
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(openMemory({ path, flushOnExit: false })).rejects.toSatisfy((error) =>
        isMemoryError(error, 'io'),
      )
    }
    const copies = await corruptCopies(dir, 'c.json')
    expect(copies).toHaveLength(1)
    expect(await readFile(join(dir, copies[0] as string), 'utf8')).toBe(
      '{"conversations": {"a": [{"role": "us',
    )
  })

  it('keeps one copy of a damaged journal, however often the open fails', async () => {
    const { dir, path, records } = await journalOf(['0', '1'])
    await writeFile(`${path}.journal`, `${records[0]}\n${records[1]?.replace('"s"', '"s\u0000')}\n`)
    await writeFile(path, '{"conversations": {}}')
    // The first write of a process makes the .bak: a directory there makes the rewrite at open fail.
    await mkdir(`${path}.bak`)
    await writeFile(join(`${path}.bak`, 'occupied'), 'x')
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(openMemory({ path, flushOnExit: false })).rejects.toSatisfy((error) =>
        isMemoryError(error, 'io'),
      )
    }
    expect(await corruptCopies(dir, 'c.json.journal')).toHaveLength(1)
    expect(existsSync(`${path}.journal`)).toBe(true)
  })
})

describe('a journal with prepared space (zero bytes after the last record)', () => {
  /** The journal's bytes with `[from, from + length)` set to zero. */
  function zeroed(data: Buffer, from: number, length: number): Buffer {
    const copy = Buffer.from(data)
    copy.fill(0, from, from + length)
    return copy
  }

  /** The first 512-byte boundary at least 16 bytes into `[start, end)`, leaving its last sector whole. */
  function sectorInside(start: number, end: number): number {
    const at = Math.ceil((start + 16) / 512) * 512
    expect(at + 512).toBeLessThan(Math.floor(end / 512) * 512 + 1)
    return at
  }

  it('parses the zeros as the end of the data, not a torn write', () => {
    const records = Buffer.concat([encodeRecord({ s: 1, c: ['x'] }), encodeRecord({ s: 2, c: ['y'] })])
    const parsed = parseJournal(Buffer.concat([records, Buffer.alloc(65_536)]))
    expect(parsed.records.map((r) => r.s)).toEqual([1, 2])
    expect(parsed).toMatchObject({
      damaged: [],
      completeBytes: records.length,
      tornBytes: 0,
      paddingBytes: 65_536,
    })
  })

  it('an append cut short inside the prepared space (a whole sector still zero) is a torn write: dropped with a warning, nothing kept aside', async () => {
    const { dir, path } = await journalOf(['0', '1', 'x'.repeat(3000)])
    const journal = await readFile(`${path}.journal`)
    const lastStart = journal.lastIndexOf(0x0a, journal.length - 2) + 1
    const hole = sectorInside(lastStart, journal.length - 1)
    await writeFile(`${path}.journal`, Buffer.concat([zeroed(journal, hole, 512), Buffer.alloc(8192)]))
    const parsed = parseJournal(await readFile(`${path}.journal`))
    expect(parsed).toMatchObject({
      damaged: [],
      completeBytes: lastStart,
      tornBytes: journal.length - lastStart,
      tornUnwritten: true,
    })
    const { memory, warnings, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['0', '1'])
    expect(warnings.join('\n')).toMatch(
      /dropped a final record with disk sectors never written \(\d+ bytes\) .*before it was acknowledged/,
    )
    expect(recovered).toEqual([])
    expect(await corruptCopies(dir, 'c.json.journal')).toEqual([])
  })

  it('the same zeroed sector in an earlier record is damage: reported and kept aside', async () => {
    const { dir, path } = await journalOf(['x'.repeat(3000), '1'])
    const journal = await readFile(`${path}.journal`)
    const firstEnd = journal.indexOf(0x0a)
    await writeFile(`${path}.journal`, zeroed(journal, sectorInside(0, firstEnd), 512))
    const { memory, recovered } = await watched(path)
    expect((await memory.history('a')).map((m) => m.content)).toEqual(['1'])
    expect(recovered).toHaveLength(1)
    expect(recovered[0]?.message).toMatch(/1 damaged record \(line 1 at byte 0: /)
    expect(await corruptCopies(dir, 'c.json.journal')).toHaveLength(1)
  })

  it('zeros in the last record that no disk write leaves (not whole sectors) are damage', () => {
    const records = Buffer.concat([
      encodeRecord({ s: 1, c: ['x'] }),
      encodeRecord({ s: 2, c: ['y'.repeat(2000)] }),
    ])
    const start = records.indexOf(0x0a) + 1
    const hole = Math.ceil((start + 16) / 512) * 512
    // One sector's worth, shifted by a byte: no sector lies whole inside it.
    const parsed = parseJournal(Buffer.concat([zeroed(records, hole + 1, 512), Buffer.alloc(512)]))
    expect(parsed.records.map((r) => r.s)).toEqual([1])
    expect(parsed.damaged).toHaveLength(1)
    expect(parsed.tornBytes).toBe(0)
  })

  it('writes the next chunk beside the appends once half the room is used, so appends do not wait for zeros', async () => {
    const path = join(await fresh(), 'j.journal')
    const journal = new Journal(path, undefined, true)
    await journal.openForAppend(0)
    const inside = journal as unknown as { preparing: Promise<void> | undefined; allocated: number }
    let seq = 1
    const append = () => journal.append(encodeRecord({ s: seq++, c: ['x'.repeat(4000)] }))
    await append()
    // The first record waited for the first chunk: 64 KiB, and nothing more under way.
    expect(inside.allocated).toBe(65_536)
    expect(inside.preparing).toBeUndefined()
    while (inside.allocated - journal.size >= 32_768) await append()
    // Past half of it: the next chunk is being written, and the appends go on meanwhile.
    const ahead = inside.preparing
    expect(ahead).toBeDefined()
    await append()
    await ahead
    expect(inside.allocated).toBe(131_072)
    expect(journal.size).toBeLessThan(65_536)
    await journal.close()
    // Closed: the zeros are cut off and every record reads back.
    const data = await readFile(path)
    expect(data.length).toBe(journal.size)
    expect(parseJournal(data).records).toHaveLength(seq - 1)
  })
})
