import { execFileSync } from 'node:child_process'
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { compactFromDisk } from '../../../src/backends/file/compaction.js'
import { journalText, testScratch } from '../../helpers.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, '..', '..', 'fixtures', 'legacy-conversations.json')
const { fresh, open } = testScratch()

async function legacyCopy(): Promise<string> {
  const path = join(await fresh(), 'conversations.json')
  await copyFile(fixture, path)
  return path
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0)
}

describe('message ids in the file backend', () => {
  it('gives the messages of a Python file the same ids at every open, without writing them', async () => {
    const path = await legacyCopy()
    const before = await readFile(path)
    const first = await open({ path })
    const ids = (await first.history(123456789)).map((m) => m.id)
    expect(ids).toHaveLength(2)
    for (const id of ids) expect(id).toMatch(/^legacy-[0-9a-f]{16}$/)
    await first.close()
    expect(await readFile(path)).toEqual(before)
    const second = await open({ path })
    expect((await second.history(123456789)).map((m) => m.id)).toEqual(ids)
    await second.close()
  })

  it('journals an upsert and a remove as one small record each, replayed at open', async () => {
    const path = await legacyCopy()
    const memory = await open({ path })
    const [question, answer] = await memory.history(123456789)
    await memory.add(123456789, { role: 'user', content: 'x'.repeat(10_000) })
    await memory.flush()
    const journalBefore = (await journalText(`${path}.journal`)).length
    await memory.upsert(123456789, { id: answer?.id as string, role: 'assistant', content: 'Modificato' })
    await memory.flush()
    expect(await memory.remove(123456789, question?.id as string)).toBe(true)
    await memory.flush()
    const added = lines(await journalText(`${path}.journal`)).slice(-2)
    expect(added).toHaveLength(2)
    expect(JSON.parse(added[0] as string).o).toEqual([
      ['123456789', [{ op: 'upsert', message: expect.objectContaining({ content: 'Modificato' }) }]],
    ])
    expect(JSON.parse(added[1] as string).o).toEqual([['123456789', [{ op: 'remove', id: question?.id }]]])
    // Neither rewrote the conversation: the 10 kB message is not in them.
    expect((await journalText(`${path}.journal`)).length - journalBefore).toBeLessThan(600)
    // destroy(): no compaction, the next open replays the journal over the Python file.
    await memory.destroy()
    const again = await open({ path })
    expect((await again.history(123456789)).map((m) => [m.id, m.content.slice(0, 10)])).toEqual([
      [answer?.id, 'Modificato'],
      [expect.any(String), 'xxxxxxxxxx'],
    ])
    await again.close()
  })

  it('stores the ids in the snapshot at its next rewrite, which Python reads, and keeps them from then on', async () => {
    const path = await legacyCopy()
    const memory = await open({ path })
    const ids = (await memory.history(123456789)).map((m) => m.id)
    await memory.upsert(123456789, { id: ids[1] as string, role: 'assistant', content: 'Bene!', model: 'm2' })
    await memory.close()
    const script = [
      'import json, sys',
      'c = json.load(open(sys.argv[1], encoding="utf-8"))["conversations"]["123456789"]',
      'print(json.dumps([[m["id"], m["content"], m.get("model")] for m in c]))',
    ].join('\n')
    const output = JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }))
    expect(output).toEqual([
      [ids[0], 'Ciao! Come stai? 😊', null],
      [ids[1], 'Bene!', 'm2'],
    ])
    // Python rewrites the file with a message of identical content before the first one: the
    // ids stored are kept, the new message gets one of its own.
    execFileSync('python3', [
      '-c',
      'import json,sys\nd=json.load(open(sys.argv[1]))\nc=d["conversations"]["123456789"]\nm=dict(c[0]); m.pop("id")\nc.insert(0, m)\njson.dump(d, open(sys.argv[1],"w"), indent=2, ensure_ascii=False)',
      path,
    ])
    const again = await open({ path })
    const history = await again.history(123456789)
    expect(history.slice(1).map((m) => m.id)).toEqual(ids)
    expect(history[0]?.id).toMatch(/^legacy-/)
    expect(history[0]?.id).not.toBe(ids[0])
    await again.close()
  }, 30_000)

  it('close() stores the ids of conversations that were never read', async () => {
    const path = await legacyCopy()
    const reference = await open({ path: await legacyCopy() })
    const ids = (await reference.history(123456789)).map((m) => m.id)
    await reference.destroy()
    const memory = await open({ path })
    await memory.add(-1001234567890, { role: 'user', content: 'altro' })
    await memory.close()
    const stored = JSON.parse(await readFile(path, 'utf8')).conversations['123456789'] as Array<{
      id?: string
    }>
    expect(stored.map((m) => m.id)).toEqual(ids)
  })

  it('derives the ids of a conversation from the list as the file holds it, also when an add trims it first', async () => {
    // Two identical messages: their ids differ by rank. Trimming the first one before the ids are
    // derived would give the second the first one's id.
    const same = { role: 'user', content: 'ciao', timestamp: '2025-01-01T10:00:00.000000' }
    const text = JSON.stringify(
      {
        conversations: {
          '7': [same, same, { role: 'assistant', content: 'ciao!', timestamp: same.timestamp }],
        },
      },
      null,
      2,
    )
    const dir = await fresh()
    const seen = join(dir, 'seen.json')
    const untouched = join(dir, 'untouched.json')
    await writeFile(seen, text)
    await writeFile(untouched, text)
    const reader = await open({ path: seen, maxMessages: 3 })
    const ids = (await reader.history(7)).map((m) => m.id)
    expect(new Set(ids).size).toBe(3)
    await reader.destroy()

    // Its first use is an add that drops the oldest message.
    const adder = await open({ path: untouched, maxMessages: 3 })
    await adder.add(7, { role: 'user', content: 'nuovo', id: 'n1' })
    expect((await adder.history(7)).map((m) => m.id)).toEqual([ids[1], ids[2], 'n1'])
    await adder.flush()
    await adder.destroy()
    // The journal replayed over the file at the next open: the same ids.
    const again = await open({ path: untouched, maxMessages: 3 })
    expect((await again.history(7)).map((m) => m.id)).toEqual([ids[1], ids[2], 'n1'])
    await again.close()
  })

  it('a rewrite from the files (the compaction worker) applies upserts and removes as open does', async () => {
    const path = await legacyCopy()
    const memory = await open({ path })
    const [question, answer] = await memory.history(123456789)
    await memory.upsert(123456789, { id: answer?.id as string, role: 'assistant', content: 'edited' })
    await memory.remove(123456789, question?.id as string)
    await memory.add(-1001234567890, { role: 'user', content: 'new', id: 'n1' })
    await memory.upsert(-1001234567890, { role: 'user', content: 'newer', id: 'n1' })
    await memory.flush()
    const expected = {
      a: await memory.history(123456789),
      b: await memory.history(-1001234567890),
    }
    await memory.destroy()
    const journal = lines(await readFile(`${path}.journal`, 'utf8'))
    const seq = JSON.parse(journal[journal.length - 1] as string).s as number
    compactFromDisk({
      path,
      journalPath: `${path}.journal`,
      journalBytes: (await stat(`${path}.journal`)).size,
      seq,
      maxMessages: 1000,
    })
    const again = await open({ path })
    expect(await again.history(123456789)).toEqual(expected.a)
    expect(await again.history(-1001234567890)).toEqual(expected.b)
    expect((await again.history(-1001234567890)).map((m) => m.content)).toEqual(['Привет, 世界', 'newer'])
    await again.close()
  })
})
