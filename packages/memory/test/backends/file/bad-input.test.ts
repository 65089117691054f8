import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileBackend, isMemoryError, type MemoryError, openMemory } from '../../../src/index.js'
import { sqliteBackend } from '../../../src/sqlite.js'
import { testScratch } from '../../helpers.js'

const { fresh, open } = testScratch()

/** The error `attempt` rejects with. */
async function refusal(attempt: Promise<unknown>): Promise<MemoryError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isMemoryError(error)).toBe(true)
  return error as MemoryError
}

/** The names in `dir`, sorted. */
async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort()
}

describe('file backend: what a new user may give it by mistake', () => {
  it('a directory at path: io, saying it is a directory and naming its absolute path', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await mkdir(path)
    const error = await refusal(openMemory({ path: relative(process.cwd(), path), flushOnExit: false }))
    expect(error.code).toBe('io')
    expect(error.message).toBe(
      `[@taurobot/memory] cannot open the JSON store: ${JSON.stringify(path)} is a directory, not a JSON snapshot. ` +
        `Point path at a file, such as ${JSON.stringify(join(path, 'conversations.json'))}, or move the directory away.`,
    )
    expect(await names(dir)).toEqual(['c.json'])
  })

  it('a SQLite database named .json: corrupt, saying how to open it, the file and its .bak untouched', async () => {
    const dir = await fresh()
    const db = join(dir, 'conversations.db')
    const writer = await openMemory({ path: db, flushOnExit: false })
    await writer.add(1, { role: 'user', content: 'kept in SQLite' })
    await writer.close()
    const path = join(dir, 'looks.json')
    await copyFile(db, path)
    // With a .bak beside it, a snapshot that does not parse would be restored from it, replacing
    // the database: a renamed database is no damage.
    await writeFile(`${path}.bak`, '{"conversations": {}}')
    const before = await readFile(path)
    const error = await refusal(openMemory({ path, flushOnExit: false }))
    expect(error.code).toBe('corrupt')
    expect(error.message).toBe(
      `[@taurobot/memory] cannot open the JSON store: ${JSON.stringify(path)} is a SQLite database (it starts with the SQLite header), not a JSON snapshot. ` +
        "Open it with the SQLite backend: give it a .db, .sqlite or .sqlite3 name, or pass backend: sqliteBackend({ path }) from '@taurobot/memory/sqlite'. Nothing was changed.",
    )
    expect((await readFile(path)).equals(before)).toBe(true)
    expect((await names(dir)).filter((name) => name.startsWith('looks'))).toEqual([
      'looks.json',
      'looks.json.bak',
    ])
    // What the message says works.
    const memory = await open({ backend: sqliteBackend({ path }) })
    expect((await memory.history(1)).map((m) => m.content)).toEqual(['kept in SQLite'])
  })

  it.each([
    ['garbage{', 'not valid JSON at byte 0 (line 1, column 1): expected a JSON object, found "g"'],
    ['nonsense', 'not valid JSON at byte 0 (line 1, column 1): expected a JSON object, found "n"'],
    ['[]', 'the top level is not a JSON object'],
    ['null', 'the top level is not a JSON object'],
  ])('a snapshot holding %s: says whether it is JSON at all', async (text, reason) => {
    const dir = await fresh()
    const path = join(dir, 'bad.json')
    await writeFile(path, text)
    const error = await refusal(openMemory({ path, flushOnExit: false }))
    expect(error.code).toBe('corrupt')
    expect(error.message).toBe(
      `[@taurobot/memory] snapshot ${JSON.stringify(path)} is damaged: ${reason}. ` +
        `There is no backup ${JSON.stringify(`${path}.bak`)} to restore it from. Nothing was changed: repair the file, or move it aside to start a new store.`,
    )
    expect(await readFile(path, 'utf8')).toBe(text)
  })

  it('a damaged snapshot: one statement with the byte, line and column, without V8 excerpts', async () => {
    const dir = await fresh()
    const path = join(dir, 'bad.json')
    const text = '{"conversations":{"1":[{"role":"user","content":"a","timestamp":"x"},}}'
    await writeFile(path, text)
    expect(text.indexOf(',}') + 1).toBe(69)
    const error = await refusal(openMemory({ path, flushOnExit: false }))
    expect(error.code).toBe('corrupt')
    expect(error.message).toBe(
      `[@taurobot/memory] snapshot ${JSON.stringify(path)} is damaged: not valid JSON at byte 69 (line 1, column 70): expected a value, found "}". ` +
        `There is no backup ${JSON.stringify(`${path}.bak`)} to restore it from. Nothing was changed: repair the file, or move it aside to start a new store.`,
    )
    expect(await readFile(path, 'utf8')).toBe(text)
  })

  it('a damaged snapshot on a later line: the line and the column in characters', async () => {
    const dir = await fresh()
    const path = join(dir, 'bad.json')
    // Python's layout; "è" is two bytes and one character, before the damage on its line.
    const good = JSON.stringify(
      { conversations: { '1': [{ role: 'user', content: 'è', timestamp: '2025-01-01T00:00:00' }] } },
      null,
      2,
    )
    const text = good.replace('"content": "è"', '"content": "è" "x"')
    await writeFile(path, text)
    const at = Buffer.byteLength(text.slice(0, text.indexOf(' "x"') + 1))
    const lines = text.slice(0, text.indexOf(' "x"') + 1).split('\n')
    const error = await refusal(openMemory({ path, flushOnExit: false }))
    expect(error.message).toContain(
      `is damaged: not valid JSON at byte ${at} (line ${lines.length}, column ${(lines.at(-1) as string).length + 1}): expected "," or "}", found "\\"". `,
    )
    expect(lines.length).toBe(6)
  })

  it('the .bak restore reports the damage the same way', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const first = await open({ path })
    await first.add('a', { role: 'user', content: 'one' })
    await first.close()
    const second = await open({ path })
    await second.add('a', { role: 'user', content: 'two' })
    await second.flush()
    await second.destroy()
    await writeFile(path, '{"conversations": {"a": [}}')
    expect('{"conversations": {"a": [}}'.indexOf('[}') + 1).toBe(25)
    const messages: string[] = []
    await open({ path, onRecovered: (info) => messages.push(info.message) })
    expect(messages[0]).toMatch(
      /^\[@taurobot\/memory\] snapshot ".*c\.json" was damaged: not valid JSON at byte 25 \(line 1, column 26\): expected a value, found "}"\. Restored from ".*c\.json\.bak" and the journal; the damaged file is kept as ".*c\.json\.corrupt-[^"]+"\. Nothing is missing\.$/,
    )
  })
})

describe('file backend: messages of a snapshot written by hand or by another program', () => {
  const BAD = {
    conversations: {
      '1': [
        { role: 'user', content: 'fine', timestamp: '2025-01-01T00:00:00' },
        { role: 'user', timestamp: '2025-01-01T00:00:01' },
      ],
      '2': [{ role: 'user', content: 'other', timestamp: '2025-01-01T00:00:00' }],
    },
  }
  const REFUSED =
    /message 1 of conversation "1" in ".*c\.json" is not a message: its content is undefined \(a message needs a non-empty string role and a string content\)\. Nothing was changed\. Fix or remove that message in the file while no store has it open, or clear\(\) the conversation to drop it\./

  it('refuses a conversation holding a message without content when it is used, not at open', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const text = JSON.stringify(BAD, null, 2)
    await writeFile(path, text)
    const memory = await open({ path, durability: 'strict' })
    // Open does not check each message: the conversation is listed as the file holds it.
    const listed: Array<[string, number]> = []
    for await (const summary of memory.conversations()) listed.push([summary.id, summary.messages])
    expect(listed).toEqual([
      ['1', 2],
      ['2', 1],
    ])
    const read = await refusal(memory.history('1'))
    expect(read.code).toBe('corrupt')
    expect(read.message).toMatch(REFUSED)
    expect(read.details).toMatchObject({ id: '1', index: 1, problem: 'its content is undefined' })
    // Refused again, the same way: it is never handed out.
    await expect(memory.history('1')).rejects.toThrow(REFUSED)
    // Nothing is written to it: the journal stays empty.
    const add = await refusal(memory.add('1', { role: 'assistant', content: 'reply' }))
    expect(add.code).toBe('corrupt')
    expect(add.message).toMatch(REFUSED)
    await memory.flush()
    expect(existsSync(`${path}.journal`) ? (await stat(`${path}.journal`)).size : 0).toBe(0)
    // Other conversations work.
    await memory.add('2', { role: 'assistant', content: 'reply' })
    expect((await memory.history('2')).map((m) => m.content)).toEqual(['other', 'reply'])
    // clear() drops it, and the conversation starts again.
    expect(await memory.clear('1')).toBe(true)
    await memory.add('1', { role: 'user', content: 'new' })
    expect((await memory.history('1')).map((m) => m.content)).toEqual(['new'])
  })

  it('in batched mode, drops the adds to such a conversation with an error event, writing the others', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    await writeFile(path, JSON.stringify(BAD))
    const errors: unknown[] = []
    const memory = await open({ path, durability: 'batched', onError: (error) => errors.push(error) })
    await memory.add('1', { role: 'user', content: 'lost' })
    await memory.add('2', { role: 'user', content: 'kept' })
    // flush() reports the dropped add (see flush-refusals.test.ts).
    expect((await refusal(memory.flush())).code).toBe('corrupt')
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toMatch(REFUSED)
    expect((await memory.history('2')).map((m) => m.content)).toEqual(['other', 'kept'])
    await memory.close()
    const { conversations } = JSON.parse(await readFile(path, 'utf8')) as typeof BAD
    // The rewrite carries the conversation over as it was, message without content included.
    expect(conversations['1']).toMatchObject(BAD.conversations['1'])
    expect(conversations['1']).toHaveLength(2)
  })

  it('refuses one trimmed at open (longer than maxMessages) when it is used', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const long = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `m${i}`, timestamp: 't' }))
    const bad: Record<string, unknown> = { role: 7, content: 'x', timestamp: 't' }
    await writeFile(path, JSON.stringify({ conversations: { '1': [...long, bad] } }))
    const memory = await open({ path, maxMessages: 3, onWarning: () => undefined })
    // Named by its place in the file (after the 5 fine ones), not in the 3 kept of it.
    await expect(memory.history('1')).rejects.toThrow(
      /message 5 of conversation "1" in ".*" is not a message: its role is 7/,
    )
  })

  it('names a message by its place in the file when the journal replayed at open trimmed the list', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const fine = (i: number) => ({ role: 'user', content: `m${i}`, timestamp: '2026-01-01T00:00:00Z' })
    await writeFile(path, JSON.stringify({ conversations: { '1': [0, 1, 2, 3].map(fine) } }))
    const first = await open({ path, maxMessages: 4 })
    await first.add('1', { role: 'user', content: 'j0' })
    await first.add('1', { role: 'user', content: 'j1' })
    await first.flush()
    await first.destroy()
    // Message 2 of the file loses its content; replaying the journal trims the 2 in front of it.
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as {
      conversations: Record<string, Array<Record<string, unknown>>>
    }
    delete (snapshot.conversations['1'] as Array<Record<string, unknown>>)[2]?.content
    await writeFile(path, JSON.stringify(snapshot))
    const second = await open({ path, maxMessages: 4 })
    await expect(second.history('1')).rejects.toThrow(
      /message 2 of conversation "1" in ".*" is not a message: its content is undefined/,
    )
    await second.close()
  })

  it('refuses it after a journal replay at open, which does not stop the store from opening', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const first = await open({ path })
    await first.add('1', { role: 'user', content: 'fine' })
    await first.add('2', { role: 'user', content: 'other' })
    await first.close()
    // Edited by hand while the journal holds a record for the conversation.
    const second = await open({ path })
    await second.add('1', { role: 'user', content: 'journaled' })
    await second.flush()
    await second.destroy()
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as {
      conversations: Record<string, Array<Record<string, unknown>>>
    }
    delete (snapshot.conversations['1'] as Array<Record<string, unknown>>)[0]?.content
    await writeFile(path, JSON.stringify(snapshot))
    const third = await open({ path })
    await expect(third.history('1')).rejects.toThrow(
      /message 0 of conversation "1" in ".*" is not a message: its content is undefined/,
    )
    expect((await third.history('2')).map((m) => m.content)).toEqual(['other'])
  })

  it('keeps loading what the Python bot writes: extra fields, and messages without a timestamp', async () => {
    const dir = await fresh()
    const path = join(dir, 'c.json')
    const messages = [
      { role: 'user', content: 'no timestamp' },
      { role: 'assistant', content: 'extra', timestamp: '2025-01-01T00:00:00', model: 'x', tokens: 3 },
      { role: 'user', content: '', timestamp: '2025-01-01T00:00:01' },
    ]
    await writeFile(path, JSON.stringify({ conversations: { '1': messages } }, null, 2))
    const memory = await open({ path })
    const history = await memory.history('1')
    expect(history.map(({ id: _id, ...rest }) => rest)).toEqual(messages)
    await memory.add('1', { role: 'user', content: 'more' })
    expect(await memory.history('1')).toHaveLength(4)
  })

  it('fileBackend({ path }) opens a JSON snapshot whatever its name', async () => {
    const dir = await fresh()
    const path = join(dir, 'renamed.db')
    await writeFile(path, JSON.stringify(BAD))
    const memory = await open({ backend: fileBackend({ path }) })
    expect((await memory.history('2')).map((m) => m.content)).toEqual(['other'])
  })
})
